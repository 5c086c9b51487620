// The shell scripts Keyway runs on servers, as constant text. Nothing is ever interpolated into them: every value
// arrives as a quoted positional argument ($1, $2, …) added by remote-commands.ts. POSIX sh (dash), `set -eu`,
// judged by exit code; the distinct codes below tell the caller why a script refused.

export const REMOTE_PATHS = {
  keywayDir: '/etc/ssh/keyway',
  principalsDir: '/etc/ssh/keyway/principals',
  caFile: '/etc/ssh/keyway/ca.pub',
  lockFile: '/etc/ssh/keyway/.lock',
  // Sorted early: sshd keeps the first value it reads for most keywords.
  dropIn: '/etc/ssh/sshd_config.d/10-keyway.conf',
} as const;

export const ACCOUNT_MARKER = 'keyway-managed';

export const REMOTE_EXIT = {
  notManaged: 10,
  systemAccount: 11,
  groupMissing: 12,
  uidTaken: 13,
  notBootstrapped: 14,
  sshdRejected: 15,
  sshdAlreadyInvalid: 16,
  processesSurvive: 17,
  lockTimeout: 18,
  shellMissing: 19,
  notEffective: 20,
  cannotReload: 21,
  settingConflict: 22,
  toolsMissing: 23,
} as const;

export const DROP_IN_TEXT = `# Written by Keyway (keyway hosts bootstrap); it is rewritten on the next bootstrap.
TrustedUserCAKeys ${REMOTE_PATHS.caFile}
AuthorizedPrincipalsFile ${REMOTE_PATHS.principalsDir}/%u
LogLevel VERBOSE

# A member of keyway-users cannot plant a key in ~/.ssh/authorized_keys and keep access after revocation.
Match Group keyway-users
    AuthorizedKeysFile none
`;

// Constants from this module, as shell variables. Only these lines are generated; everything below is fixed text.
const HEADER = [
  'set -eu',
  'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  'LC_ALL=C',
  'export PATH LC_ALL',
  'umask 022',
  `KEYWAY_DIR=${REMOTE_PATHS.keywayDir}`,
  `PRINCIPALS_DIR=${REMOTE_PATHS.principalsDir}`,
  `CA_FILE=${REMOTE_PATHS.caFile}`,
  `LOCK_FILE=${REMOTE_PATHS.lockFile}`,
  `DROP_IN=${REMOTE_PATHS.dropIn}`,
  'KEYWAY_GROUP=keyway-users',
  `MARKER=${ACCOUNT_MARKER}`,
  ...Object.entries(REMOTE_EXIT).map(([name, code]) => `EXIT_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}=${code}`),
  'drop_in_text() {',
  "  cat <<'KEYWAY_DROP_IN'",
  `${DROP_IN_TEXT}KEYWAY_DROP_IN`,
  '}',
].join('\n');

// Shell text without any ${…}, so that no JavaScript interpolation can ever hide in it.
const FUNCTIONS = String.raw`
fail() { status=$1; shift; printf '%s\n' "$*" >&2; exit "$status"; }

# One Keyway operation at a time per server: useradd, usermod and gpasswd all rewrite /etc/passwd and /etc/group.
take_lock() {
  exec 9>>"$LOCK_FILE"
  flock -w 30 9 || fail "$EXIT_LOCK_TIMEOUT" "another Keyway operation has held $LOCK_FILE for 30 s"
}

# Prints: absent | system UID | managed UID | unmanaged UID
account_state() {
  entry=$(getent passwd "$1" | head -n 1)
  [ -n "$entry" ] || { echo absent; return 0; }
  uid=$(printf '%s\n' "$entry" | cut -d: -f3)
  marker=$(printf '%s\n' "$entry" | cut -d: -f5 | cut -d, -f1)
  if [ "$uid" -lt 1000 ]; then echo "system $uid"
  elif [ "$marker" = "$MARKER" ]; then echo "managed $uid"
  else echo "unmanaged $uid"
  fi
}

# Refuses (exits) unless the account is absent or is the one Keyway created with UID $2; prints absent or managed.
require_keyway_account() {
  state=$(account_state "$1")
  found_uid=$(printf '%s' "$state" | cut -s -d' ' -f2)
  case $state in
    absent) echo absent ;;
    "managed $2") echo managed ;;
    managed*)
      if [ -z "$2" ]; then fail "$EXIT_NOT_MANAGED" "$1 is marked $MARKER but Keyway has no record of creating it: refusing to touch it"; fi
      fail "$EXIT_NOT_MANAGED" "$1 has UID $found_uid, not the UID $2 Keyway created it with: refusing to touch it" ;;
    system*) fail "$EXIT_SYSTEM_ACCOUNT" "$1 is a system account (UID $found_uid): Keyway never touches it" ;;
    *) fail "$EXIT_NOT_MANAGED" "$1 already exists and was not created by Keyway (no $MARKER marker): refusing to touch it" ;;
  esac
}

remove_principal() {
  file="$PRINCIPALS_DIR/$1"
  if [ -f "$file" ] && grep -qxF -- "$2" "$file"; then
    { grep -vxF -- "$2" "$file" || [ $? -eq 1 ]; } > "$file.new"
    if [ -s "$file.new" ]; then chmod 0644 "$file.new"; mv -f "$file.new" "$file"; else rm -f "$file.new" "$file"; fi
    echo principal-removed=1
  fi
}

require_tools() {
  missing=
  for tool in "$@"; do command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"; done
  [ -z "$missing" ] || fail "$EXIT_TOOLS_MISSING" "this server lacks commands Keyway needs:$missing (packages passwd, procps, util-linux, diffutils)"
}

# pgrep: 0 = found, 1 = none; anything else is an error, never "none".
has_processes() {
  for owner in -u -U; do
    status=0
    pgrep "$owner" "$1" >/dev/null || status=$?
    case $status in
      0) return 0 ;;
      1) ;;
      *) fail 3 "pgrep $owner $1 failed with status $status" ;;
    esac
  done
  return 1
}

end_processes() {
  tries=0
  while has_processes "$1"; do
    tries=$((tries + 1))
    [ "$tries" -le 50 ] || fail "$EXIT_PROCESSES_SURVIVE" "processes of $1 are still running after 5 s of kill -KILL"
    pkill -KILL -u "$1" || [ $? -eq 1 ]
    pkill -KILL -U "$1" || [ $? -eq 1 ]
    sleep 0.1
  done
}

# Locks the account and ends everything of the user's that could outlive the grant.
end_access() {
  usermod --lock --expiredate 1 "$1"
  if [ -d /run/systemd/system ] && command -v loginctl >/dev/null 2>&1; then
    loginctl disable-linger "$1"
    if loginctl show-user "$1" >/dev/null 2>&1; then loginctl terminate-user "$1"; fi
  fi
  if command -v crontab >/dev/null 2>&1 && crontab -l -u "$1" >/dev/null 2>&1; then crontab -r -u "$1"; echo crontab-removed=1; fi
  if command -v atq >/dev/null 2>&1; then
    for job in $(atq | awk -v u="$1" '$NF == u { print $1 }'); do atrm "$job"; done
  fi
  end_processes "$1"
  echo access-ended=1
}
`;

function script(body: string): string {
  return `${HEADER}\n${FUNCTIONS}\n${body.trim()}\n`;
}

/** $1 user, $2 first UID of the range, $3 last UID. Prints account=… and uid-taken=N for each UID in the range. */
export const INSPECT_ACCOUNT_SCRIPT = script(String.raw`
user=$1 min=$2 max=$3
state=$(account_state "$user")
echo "account=$state"
getent passwd | awk -F: -v min="$min" -v max="$max" '$3 >= min && $3 <= max { print "uid-taken=" $3 }'
`);

/** $1 user, $2 UID, $3 login shell, $4 principal, $5 groups (comma-separated, may be empty). */
export const PROVISION_SCRIPT = script(String.raw`
user=$1 uid=$2 shell=$3 principal=$4 groups=$5
require_tools flock getent useradd usermod
if [ ! -d "$PRINCIPALS_DIR" ] || ! getent group "$KEYWAY_GROUP" >/dev/null; then
  fail "$EXIT_NOT_BOOTSTRAPPED" "Keyway is not set up on this server (no $PRINCIPALS_DIR or group $KEYWAY_GROUP): run keyway hosts bootstrap"
fi
[ -x "$shell" ] || fail "$EXIT_SHELL_MISSING" "the login shell $shell does not exist on this server: install it or change login_shell"
for group in $(printf '%s' "$groups" | tr ',' ' '); do
  getent group "$group" >/dev/null || fail "$EXIT_GROUP_MISSING" "the group $group does not exist on this server: create it, or change grant_groups"
done
take_lock
state=$(require_keyway_account "$user" "$uid")
if [ "$state" = absent ]; then
  if getent passwd "$uid" >/dev/null; then fail "$EXIT_UID_TAKEN" "UID $uid is already used by another account"; fi
  useradd --create-home --user-group --uid "$uid" --shell "$shell" --comment "$MARKER" --password '*' "$user"
  echo created=1
fi
# A revoke locked and expired the account; a new grant opens it again (password '*': no password login).
if [ -n "$groups" ]; then all_groups="$KEYWAY_GROUP,$groups"; else all_groups=$KEYWAY_GROUP; fi
usermod --password '*' --expiredate '' --shell "$shell" --append --groups "$all_groups" "$user"
file="$PRINCIPALS_DIR/$user"
if [ ! -f "$file" ] || ! grep -qxF -- "$principal" "$file"; then printf '%s\n' "$principal" >> "$file"; fi
chmod 0644 "$file"
echo provisioned=1
`);

/** $1 user, $2 UID Keyway recorded (may be empty), $3 principal, $4 groups to remove (comma-separated), $5 1 = end access. */
export const REVOKE_SCRIPT = script(String.raw`
user=$1 uid=$2 principal=$3 groups=$4 end=$5
require_tools flock getent usermod gpasswd pgrep pkill
if [ -d "$KEYWAY_DIR" ]; then take_lock; fi
remove_principal "$user" "$principal"
state=$(require_keyway_account "$user" "$uid")
if [ "$state" = absent ]; then echo account=absent; exit 0; fi
member_of=" $(id -nG "$user") "
for group in $(printf '%s' "$groups" | tr ',' ' '); do
  case $member_of in
    *" $group "*) gpasswd -d "$user" "$group" >/dev/null; echo "group-removed=$group" ;;
  esac
done
if [ "$end" = 1 ]; then end_access "$user"; fi
echo revoked=1
`);

/** $1 user, $2 UID Keyway recorded (may be empty). */
export const DELETE_ACCOUNT_SCRIPT = script(String.raw`
user=$1 uid=$2
require_tools flock getent usermod userdel pgrep pkill
if [ -d "$KEYWAY_DIR" ]; then take_lock; fi
state=$(require_keyway_account "$user" "$uid")
if [ "$state" = absent ]; then rm -f "$PRINCIPALS_DIR/$user"; echo account=absent; exit 0; fi
end_access "$user"
userdel --remove "$user"
rm -f "$PRINCIPALS_DIR/$user"
echo account=deleted
`);

const SSHD_STATE_FUNCTIONS = String.raw`
ALL_TOOLS="sshd flock getent groupadd useradd usermod userdel gpasswd pgrep pkill cmp install"
# Prints the effective value of an sshd keyword (lower-case), from sshd -T.
effective() { printf '%s\n' "$effective_settings" | awk -v k="$1" '$1 == k { sub(/^[^ ]+ /, ""); print; exit }'; }
`;

/** $1 the CA public key line. Idempotent; prints changes=… (empty when already configured) and warning=… lines. */
export const BOOTSTRAP_SCRIPT = script(SSHD_STATE_FUNCTIONS + String.raw`
ca=$1
# Found now rather than at the first revoke: a server without pkill could not end a user's processes.
require_tools $ALL_TOOLS
[ -d /etc/ssh/sshd_config.d ] || fail "$EXIT_NOT_EFFECTIVE" "/etc/ssh/sshd_config.d does not exist: Keyway needs an sshd that reads drop-ins (Include /etc/ssh/sshd_config.d/*.conf in sshd_config)"
before=$(sshd -t 2>&1) || fail "$EXIT_SSHD_ALREADY_INVALID" "sshd's configuration is invalid before Keyway changes anything; fix it first: $before"
effective_settings=$(sshd -T 2>&1) || fail "$EXIT_SSHD_ALREADY_INVALID" "sshd -T failed: $effective_settings"
current=$(effective trustedusercakeys)
case $current in none|"$CA_FILE") ;; *) fail "$EXIT_SETTING_CONFLICT" "sshd already trusts another user CA (TrustedUserCAKeys $current); Keyway will not replace it" ;; esac
current=$(effective authorizedprincipalsfile)
case $current in none|"$PRINCIPALS_DIR/%u") ;; *) fail "$EXIT_SETTING_CONFLICT" "sshd already uses AuthorizedPrincipalsFile $current; Keyway will not replace it" ;; esac

changes=
if [ ! -d "$KEYWAY_DIR" ]; then install -d -m 0755 -o root -g root "$KEYWAY_DIR"; changes="$changes keyway-dir"; fi
take_lock
if [ ! -d "$PRINCIPALS_DIR" ]; then install -d -m 0755 -o root -g root "$PRINCIPALS_DIR"; changes="$changes principals-dir"; fi
if ! getent group "$KEYWAY_GROUP" >/dev/null; then groupadd --system "$KEYWAY_GROUP"; changes="$changes group"; fi

# Each file is written aside (the names do not end in .conf, so sshd never reads them) and moved into place;
# the previous version is kept until sshd -t accepts the new one.
replaced=
replace_file() {
  if cmp -s "$1.keyway-new" "$1"; then rm -f "$1.keyway-new"; return 0; fi
  if [ -f "$1" ]; then cp -p "$1" "$1.keyway-old"; else rm -f "$1.keyway-old"; fi
  chmod 0644 "$1.keyway-new"
  mv -f "$1.keyway-new" "$1"
  replaced="$replaced $1"
  changes="$changes $2"
}
roll_back() {
  for file in $replaced; do
    if [ -f "$file.keyway-old" ]; then mv -f "$file.keyway-old" "$file"; else rm -f "$file"; fi
  done
}
printf '%s\n' "$ca" > "$CA_FILE.keyway-new"
replace_file "$CA_FILE" ca-key
drop_in_text > "$DROP_IN.keyway-new"
replace_file "$DROP_IN" sshd-drop-in
if [ -n "$replaced" ]; then
  if ! after=$(sshd -t 2>&1); then
    roll_back
    fail "$EXIT_SSHD_REJECTED" "sshd -t rejected the new settings, so they were rolled back: $after"
  fi
  for file in $replaced; do rm -f "$file.keyway-old"; done
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    systemctl reload sshd 2>/dev/null || systemctl reload ssh
  elif [ -f /run/sshd.pid ]; then
    kill -HUP "$(cat /run/sshd.pid)"
  else
    fail "$EXIT_CANNOT_RELOAD" "the settings are written but sshd could not be reloaded (no systemd, no /run/sshd.pid): reload sshd by hand"
  fi
  changes="$changes sshd-reloaded"
fi

effective_settings=$(sshd -T 2>&1) || fail "$EXIT_SSHD_REJECTED" "sshd -T failed: $effective_settings"
missing=
[ "$(effective trustedusercakeys)" = "$CA_FILE" ] || missing="$missing TrustedUserCAKeys"
[ "$(effective authorizedprincipalsfile)" = "$PRINCIPALS_DIR/%u" ] || missing="$missing AuthorizedPrincipalsFile"
[ -z "$missing" ] || fail "$EXIT_NOT_EFFECTIVE" "sshd -T shows other values for$missing: sshd_config or a file read before $DROP_IN sets them first, or sshd_config does not Include /etc/ssh/sshd_config.d/*.conf"
case $(effective loglevel) in VERBOSE|DEBUG*) ;; *) echo "warning=LogLevel is $(effective loglevel), not VERBOSE (set before $DROP_IN): sshd will not log certificate key IDs" ;; esac
echo "changes=$changes"
`);

/** $1 the CA public key line, or empty when unknown. Prints one key=value line per part of the bootstrap. */
export const CHECK_SCRIPT = script(SSHD_STATE_FUNCTIONS + String.raw`
ca=$1
missing=
for tool in $ALL_TOOLS; do command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"; done
if [ -z "$missing" ]; then echo tools=ok; else echo "tools=missing$missing"; fi
if [ -d "$PRINCIPALS_DIR" ]; then echo principals-dir=yes; else echo principals-dir=no; fi
if getent group "$KEYWAY_GROUP" >/dev/null; then echo group=yes; else echo group=no; fi
if [ ! -f "$CA_FILE" ]; then echo ca-key=missing
elif [ -z "$ca" ]; then echo ca-key=present
elif [ "$(cat "$CA_FILE")" = "$ca" ]; then echo ca-key=current
else echo ca-key=different
fi
if [ ! -f "$DROP_IN" ]; then echo drop-in=missing
elif drop_in_text | cmp -s - "$DROP_IN"; then echo drop-in=current
else echo drop-in=different
fi
if effective_settings=$(sshd -T 2>&1); then
  if [ "$(effective trustedusercakeys)" = "$CA_FILE" ] && [ "$(effective authorizedprincipalsfile)" = "$PRINCIPALS_DIR/%u" ]; then
    echo effective=yes
  else
    echo effective=no
  fi
else
  echo effective=invalid-config
fi
`);
