// The shell scripts Keyway runs on servers, as constant text. Nothing is ever interpolated into them: every value
// arrives as a quoted positional argument ($1, $2, …) added by remote-commands.ts. POSIX sh (dash), `set -eu`,
// judged by exit code; the distinct codes below tell the caller why a script refused.

export const REMOTE_PATHS = {
  keywayDir: '/etc/ssh/keyway',
  principalsDir: '/etc/ssh/keyway/principals',
  caFile: '/etc/ssh/keyway/ca.pub',
  // Only root can enter the lock's directory, so no user can open the lock file, let alone hold it.
  lockDir: '/etc/ssh/keyway/lock',
  lockFile: '/etc/ssh/keyway/lock/keyway.lock',
  // Where the lock lived before: readable by everyone, so a user could hold it and stall every revoke.
  oldLockFile: '/etc/ssh/keyway/.lock',
  // Sorted early: sshd keeps the first value it reads for most keywords.
  dropIn: '/etc/ssh/sshd_config.d/10-keyway.conf',
} as const;

export const ACCOUNT_MARKER = 'keyway-managed';
/** The locked system account bootstrap creates so that sshd -T can show what a member of keyway-users gets. */
export const PROBE_USER = 'keyway-probe';

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
  hooksLeft: 24,
} as const;

export const DROP_IN_TEXT = `# Written by Keyway (keyway hosts bootstrap); it is rewritten on the next bootstrap.
TrustedUserCAKeys ${REMOTE_PATHS.caFile}
AuthorizedPrincipalsFile ${REMOTE_PATHS.principalsDir}/%u
LogLevel VERBOSE

# A member of keyway-users cannot plant a key (in ~/.ssh/authorized_keys, or through a key lookup command) and
# keep access after revocation.
Match Group keyway-users
    AuthorizedKeysFile none
    AuthorizedKeysCommand none
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
  `LOCK_DIR=${REMOTE_PATHS.lockDir}`,
  `LOCK_FILE=${REMOTE_PATHS.lockFile}`,
  `OLD_LOCK_FILE=${REMOTE_PATHS.oldLockFile}`,
  `DROP_IN=${REMOTE_PATHS.dropIn}`,
  'KEYWAY_GROUP=keyway-users',
  `MARKER=${ACCOUNT_MARKER}`,
  `PROBE_USER=${PROBE_USER}`,
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
# The lock is in a directory only root can enter (its owner and mode are set again every time), so only another
# Keyway operation can hold it: nothing a user opens, locks or creates can make a Keyway operation wait.
take_lock() {
  install -d -m 0700 -o root -g root "$LOCK_DIR"
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

require_tools() {
  missing=
  for tool in "$@"; do command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"; done
  [ -z "$missing" ] || fail "$EXIT_TOOLS_MISSING" "this server lacks commands Keyway needs:$missing (packages passwd, procps, util-linux, diffutils)"
}

# How many processes of UID $1 are alive. Zombies do not count: they are dead already, only their parent reaps them.
count_live_processes() {
  table=$(ps -e -o euid= -o ruid= -o suid= -o stat=) || fail 3 "ps failed: $table"
  printf '%s\n' "$table" | awk -v u="$1" '($1 == u || $2 == u || $3 == u) && $4 !~ /^Z/ { n++ } END { print n + 0 }'
}

# Kills every process of user $1 (UID $2, GID $3): detached (setsid, nohup, double forks), in other sessions, and
# forking as fast as it can. kill(-1) sent AS the user reaches every process with the user's real or saved UID in one
# pass that no fork escapes (a process with SIGKILL pending cannot fork), and never reaches root's processes; a
# list-then-kill (pkill) can always miss the child forked in between. Repeated until nothing of the user's is alive.
end_processes() {
  # Becoming the user counts against the user's process limit: a fork bomb must not make our execve fail.
  prlimit --pid $$ --nproc=unlimited 2>/dev/null || :
  tries=0
  while :; do
    setpriv --reuid="$2" --regid="$3" --clear-groups kill -KILL -1 2>/dev/null || :
    [ "$(count_live_processes "$2")" -gt 0 ] || break
    tries=$((tries + 1))
    [ "$tries" -lt 50 ] || fail "$EXIT_PROCESSES_SURVIVE" "processes of $1 are still alive after 5 s of kill -KILL (stuck in the kernel?)"
    sleep 0.1
  done
}

# Locks the account and removes what would act for the user later without a login: lingering user services, the
# crontab, at jobs. Processes are ended separately (end_processes), after this, so nothing can be started again.
lock_account() {
  usermod --lock --expiredate 1 "$1"
  if [ -d /run/systemd/system ] && command -v loginctl >/dev/null 2>&1; then
    timeout 10 loginctl disable-linger "$1"
    if timeout 10 loginctl show-user "$1" >/dev/null 2>&1; then timeout 10 loginctl terminate-user "$1"; fi
  fi
  if command -v crontab >/dev/null 2>&1 && crontab -l -u "$1" >/dev/null 2>&1; then crontab -r -u "$1"; echo crontab-removed=1; fi
  if command -v atq >/dev/null 2>&1; then
    for job in $(atq | awk -v u="$1" '$NF == u { print $1 }'); do atrm "$job"; done
  fi
}

# Mail delivery hooks (~/.forward and the like) make the mail system run commands as the user with no login at all.
# They are moved into a fresh directory only root can enter (mktemp -d, in the home so that the move is a rename on
# one filesystem: a huge file takes no time). Called only once every process of the user is dead, so nothing of the
# user's can swap a path under us; rename(2) moves a symlink as a link and never follows it, and an entry on another
# filesystem (a mount point) is not copied but left. move_hooks_in takes the home and sets hooks_moved, hooks_aside
# and hooks_left (what could not be moved); it runs no command at all when there is no hook (only the shell's tests).
# A hook left fails the revoke (a mail system runs it even for a locked account), which is retried.
move_hooks_in() {
  home=$1 hooks_moved= hooks_aside= hooks_left=
  if [ -z "$home" ] || [ "$home" = / ] || [ ! -d "$home" ] || [ -h "$home" ]; then return 0; fi
  aside=
  for hook in "$home"/.forward "$home"/.forward[+-]* "$home"/.procmailrc "$home"/.mailfilter \
    "$home"/.qmail "$home"/.qmail-* "$home"/.courier "$home"/.courier-*; do
    if [ ! -e "$hook" ] && [ ! -h "$hook" ]; then continue; fi
    # The name is the user's choice: never let it break a key=value line.
    name=$(printf '%s' "$(basename -- "$hook")" | tr -c 'A-Za-z0-9._+-' '?')
    [ -n "$aside" ] || aside=$(mktemp -d "$home/.keyway-revoked-XXXXXX") || aside=
    if [ -n "$aside" ] && [ "$(stat -c %d -- "$hook" 2>/dev/null)" = "$(stat -c %d -- "$aside")" ] && mv -f -- "$hook" "$aside/"; then
      hooks_moved="$hooks_moved $name"
    else
      hooks_left="$hooks_left $name"
    fi
  done
  if [ -n "$hooks_moved" ]; then hooks_aside=$aside; elif [ -n "$aside" ]; then rmdir "$aside" || :; fi
}

`;

function script(body: string): string {
  return `${HEADER}\n${FUNCTIONS}\n${body.trim()}\n`;
}

/** $1 user, $2 UID Keyway recorded (may be empty). */
export const DELETE_ACCOUNT_SCRIPT = script(String.raw`
user=$1 uid=$2
require_tools flock getent usermod userdel ps setpriv
if [ -d "$KEYWAY_DIR" ]; then take_lock; fi
state=$(require_keyway_account "$user" "$uid")
if [ "$state" = absent ]; then rm -f "$PRINCIPALS_DIR/$user"; echo account=absent; exit 0; fi
rm -f "$PRINCIPALS_DIR/$user"
lock_account "$user"
end_processes "$user" "$uid" "$(id -g "$user")"
userdel --remove "$user"
echo account=deleted
`);

const SSHD_STATE_FUNCTIONS = String.raw`
ALL_TOOLS="sshd flock getent groupadd useradd usermod userdel gpasswd ps setpriv mktemp cmp install"
# Prints the effective value of an sshd keyword (lower-case), from sshd -T.
effective() { printf '%s\n' "$effective_settings" | awk -v k="$1" '$1 == k { sub(/^[^ ]+ /, ""); print; exit }'; }

# Prints one line per way other than a certificate that sshd would let a member of keyway-users authenticate with
# (AuthorizedKeysFile or AuthorizedKeysCommand other than none); nothing when there is none, as it must be. An earlier
# Match block wins over Keyway's, and a Match Address block applies to some clients only: so the settings are taken
# from sshd -T for the probe account, as seen from a few typical client addresses.
member_key_settings() {
  found=
  for addr in 127.0.0.1 10.1.2.3 172.16.1.2 192.168.1.2 198.51.100.7 2001:db8::7; do
    member_settings=$(sshd -T -C "user=$PROBE_USER,host=keyway-probe.invalid,addr=$addr" 2>&1) \
      || { printf 'sshd -T -C failed: %s\n' "$member_settings"; return 1; }
    found="$found$(printf '%s\n' "$member_settings" | awk -v addr="$addr" '
      ($1 == "authorizedkeysfile" || $1 == "authorizedkeyscommand") && $2 != "none" {
        name = ($1 == "authorizedkeysfile") ? "AuthorizedKeysFile" : "AuthorizedKeysCommand"
        sub(/^[^ ]+ /, ""); print name " " $0 "\t" addr
      }')
"
  done
  printf '%s' "$found" | awk -F '\t' 'NF && !seen[$1]++ { print $1 " (for a connection from " $2 ")" }'
}
`;

/** $1 the CA public key line. Idempotent; prints changes=… (empty when already configured) and warning=… lines. */
export const BOOTSTRAP_SCRIPT = script(SSHD_STATE_FUNCTIONS + String.raw`
ca=$1
# Found now rather than at the first revoke: a server without setpriv could not end a user's processes.
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
rm -f "$OLD_LOCK_FILE"
if ! getent group "$KEYWAY_GROUP" >/dev/null; then groupadd --system "$KEYWAY_GROUP"; changes="$changes group"; fi

# sshd -T -C evaluates "Match Group" only for an account that exists and is in the group, and keyway-users may have no
# member yet (or only members that come and go). So Keyway keeps one of its own: keyway-probe, a system account (never
# granted) whose primary group is keyway-users, with a locked password ('!'), expired, no home and no login shell. It
# cannot log in (no principals file, no keys) and serves only as the "user=" of sshd -T -C. An account of that name
# that Keyway did not create (other comment, or a regular UID) is never touched: bootstrap refuses instead.
probe_state=$(account_state "$PROBE_USER")
probe_comment=$(getent passwd "$PROBE_USER" | cut -d: -f5 || :)
case $probe_state in
  absent)
    if [ -x /usr/sbin/nologin ]; then probe_shell=/usr/sbin/nologin; else probe_shell=/bin/false; fi
    useradd --system --no-create-home --home-dir /nonexistent --shell "$probe_shell" --comment "$PROBE_USER" \
      --no-user-group --gid "$KEYWAY_GROUP" --password '!' --expiredate 1 "$PROBE_USER"
    changes="$changes probe-account" ;;
  system*)
    [ "$probe_comment" = "$PROBE_USER" ] || fail "$EXIT_SETTING_CONFLICT" "an account $PROBE_USER exists that Keyway did not create (comment: $probe_comment): Keyway needs that name for its sshd settings probe; remove or rename it"
    case " $(id -nG "$PROBE_USER") " in
      *" $KEYWAY_GROUP "*) ;;
      *) usermod --append --groups "$KEYWAY_GROUP" "$PROBE_USER"; changes="$changes probe-account" ;;
    esac ;;
  *) fail "$EXIT_SETTING_CONFLICT" "an account $PROBE_USER exists with a regular UID that Keyway did not create: Keyway needs that name for its sshd settings probe; remove or rename it" ;;
esac

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
overrides=$(member_key_settings) || fail "$EXIT_SSHD_REJECTED" "$overrides"
if [ -n "$overrides" ]; then
  fail "$EXIT_SETTING_CONFLICT" "Keyway's settings are in place, but sshd -T shows for a member of $KEYWAY_GROUP: $(printf '%s' "$overrides" | tr '\n' ';' | sed 's/;/; /g'). An earlier Match block (or a file read before $DROP_IN) overrides Keyway's AuthorizedKeysFile none / AuthorizedKeysCommand none, so a granted user could plant a key and keep access after revocation: remove that setting for $KEYWAY_GROUP, or make it apply after $DROP_IN"
fi
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
if [ "$(account_state "$PROBE_USER" | cut -d' ' -f1)" != system ]; then echo probe-account=missing
elif overrides=$(member_key_settings); then
  echo probe-account=yes
  printf '%s\n' "$overrides" | while IFS= read -r line; do [ -z "$line" ] || echo "member-key=$line"; done
else
  echo probe-account=yes
  echo "member-key=unknown: $(printf '%s' "$overrides" | tr '\n' ' ')"
fi
`);

// The batch protocol (revoke and provision): $1 is the number of grants N, then N groups of a fixed number of
// arguments, one group per grant, numbered 1..N in order. A refusal or an error ends only the part of the grants it
// concerns (fail_user, for one user's grants): the script exits 0 once it has tried every grant, and reports per grant
// `<key>.<n>=<value>` lines, ending with either `done.<n>=1` or `failed.<n>=<exit code>` plus `error.<n>=<what the
// server said>`. It exits non-zero only for what stops every grant (bad arguments, missing tools, the lock): then no
// grant is done and each is retried.
//
// Both scripts keep their state in shell variables named by a constant prefix and a number (never by a value):
// a_I_N the Ith argument of grant N, o_N the number of the first grant of N's user (K below), and per user K: pl_K its
// grants' principals (one per line), gl_K the union of their groups, st_K absent | managed | refused, puid_K, pgid_K,
// home_K, shell_K from its passwd entry, code_K and err_K its first failure. Only the shell's builtins, except where a
// command must act: one getent per table for every user at once, and one account-database command per user (each
// such command rewrites and fsyncs /etc/passwd, /etc/shadow, /etc/group or /etc/gshadow: what a batch costs most).
const BATCH_FUNCTIONS = String.raw`
NL='
'
val() { eval "v=\$$1"; }
append() { eval "$1=\"\$$1\$2\""; }

# Sets owner to the number of the first grant of user $1 among users_idx, or to $2 (this grant) when there is none.
owner_of() {
  owner=$2
  for k in $users_idx; do
    val "a_1_$k"
    if [ "$v" = "$1" ]; then owner=$k; break; fi
  done
}

# Adds each group of the comma-separated list $2 ("-": none) to gl_$1, the groups of user number $1, once.
union_groups() {
  [ "$2" != - ] || return 0
  old_ifs=$IFS
  IFS=,
  for group in $2; do
    val "gl_$1"
    case " $v " in *" $group "*) ;; *) append "gl_$1" " $group" ;; esac
  done
  IFS=$old_ifs
}

# Records user $1's first failure: code $2, text $3 (on one line).
fail_user() {
  val "code_$1"
  [ -z "$v" ] || return 0
  old_ifs=$IFS
  IFS=$NL
  set -f
  joined= sep=
  for part in $3; do joined="$joined$sep$part"; sep=' / '; done
  set +f
  IFS=$old_ifs
  eval "code_$1=\$2 err_$1=\$joined"
}

# Reads the argument groups into the variables a_I_N (the Ith value of grant N), an empty value written as "-". Every
# value must be one word of the characters validated values use: none can be taken for a pattern or an option.
read_batch() {
  per=$1
  shift
  count=$1
  shift
  case $count in ''|*[!0-9]*) fail 2 "the first argument must be the number of grants" ;; esac
  [ "$#" -eq "$((count * per))" ] || fail 2 "expected $count groups of $per arguments, got $# arguments"
  n=0
  while [ "$#" -gt 0 ]; do
    n=$((n + 1))
    i=0
    while [ "$i" -lt "$per" ]; do
      value=$1
      shift
      i=$((i + 1))
      [ -n "$value" ] || value=-
      case $value in *[!A-Za-z0-9._@,/-]*) fail 2 "argument $i of grant $n is not a value Keyway sends" ;; esac
      eval "a_$i""_$n=\$value"
    done
  done
}

# Removes every principal listed in $2 (one per line) from user $1's principals file in one atomic rewrite (the file
# goes when nothing is left, or when there is no room to rewrite it: closed, never open). Sets found (the principals
# removed, one per line). The file is read and written by the shell itself: one command (mv or rm) per user whose
# file changes, none for the others. The new file is written under a name only root can create (the directory is
# root's), mode 0644 from the umask. Returns non-zero only when a principal may still be there.
remove_principals() {
  file="$PRINCIPALS_DIR/$1" found= kept=
  [ -f "$file" ] || return 0
  while IFS= read -r line || [ -n "$line" ]; do
    case "$NL$2$NL" in
      *"$NL$line$NL"*) [ -z "$line" ] || found="$found$line$NL" ;;
      *) kept="$kept$line$NL" ;;
    esac
  done < "$file"
  [ -n "$found" ] || return 0
  new="$PRINCIPALS_DIR/.keyway-batch.$$"
  case $kept in *[!$NL]*) ;; *) kept= ;; esac
  if [ -n "$kept" ] && { printf '%s' "$kept" > "$new"; } 2>/dev/null && mv -f "$new" "$file"; then return 0; fi
  # Nothing left, or no room for the rewrite (a user can fill a filesystem that keeps nothing back for root, like
  # XFS): the whole file goes, which needs none. The user's other grants here lose their principals too: closed, never open.
  rm -f "$new" "$file"
}

# Checks every user in users_idx has an account that is Keyway's (absent, or marked and with the UID uid_K, "-" when
# Keyway has no record of it), from one getent call: sets st_K, puid_K, pgid_K, home_K, shell_K, and managed (the
# users whose account is Keyway's). A refusal fails that user's grants only.
require_keyway_accounts() {
  names= managed=
  for k in $users_idx; do val "a_1_$k"; names="$names $v"; done
  entries=$(getent passwd $names) || [ $? -eq 2 ] || fail 3 "getent passwd failed: $entries"
  while IFS=: read -r name _ puid pgid gecos phome pshell; do
    [ -n "$name" ] || continue
    for k in $users_idx; do
      val "a_1_$k"
      [ "$v" = "$name" ] || continue
      val "st_$k"
      [ "$v" = absent ] || break
      val "uid_$k"
      want=$v
      [ "$want" != - ] || want=
      eval "st_$k=refused"
      if [ "$puid" -lt 1000 ]; then
        fail_user "$k" "$EXIT_SYSTEM_ACCOUNT" "$name is a system account (UID $puid): Keyway never touches it"
      else
        case $gecos in
          "$MARKER"|"$MARKER",*)
            if [ -n "$want" ] && [ "$puid" = "$want" ]; then
              eval "st_$k=managed puid_$k=\$puid pgid_$k=\$pgid home_$k=\$phome shell_$k=\$pshell"
              managed="$managed $k"
            elif [ -z "$want" ]; then
              fail_user "$k" "$EXIT_NOT_MANAGED" "$name is marked $MARKER but Keyway has no record of creating it: refusing to touch it"
            else
              fail_user "$k" "$EXIT_NOT_MANAGED" "$name has UID $puid, not the UID $want Keyway created it with: refusing to touch it"
            fi ;;
          *) fail_user "$k" "$EXIT_NOT_MANAGED" "$name already exists and was not created by Keyway (no $MARKER marker): refusing to touch it" ;;
        esac
      fi
      break
    done
  done <<KEYWAY_PASSWD
$entries
KEYWAY_PASSWD
}

# Sets group_table to the getent group lines of the groups named in $1 (space-separated; those that do not exist are
# simply not there), and group_names to the names found (space-padded).
read_groups() {
  group_table= group_names=' '
  [ -n "$1" ] || return 0
  group_table=$(getent group $1) || [ $? -eq 2 ] || fail 3 "getent group failed: $group_table"
  while IFS=: read -r gname _; do
    [ -z "$gname" ] || group_names="$group_names$gname "
  done <<KEYWAY_GROUPS
$group_table
KEYWAY_GROUPS
}

# Sets member_of to the groups among $2 (space-separated) that user $1 is a member of, from group_table.
groups_of_user() {
  member_of=
  while IFS=: read -r gname _ _ members; do
    case " $2 " in *" $gname "*) ;; *) continue ;; esac
    case ",$members," in *",$1,"*) member_of="$member_of $gname" ;; esac
  done <<KEYWAY_GROUPS
$group_table
KEYWAY_GROUPS
}
`;

// The revoke batch, on top of BATCH_FUNCTIONS: per user K also end_K 1 when every grant of the user in the batch ends
// access, rm_K the principals removed, rg_K / fg_K the groups removed / not removable (gerr_K why), cr_K crontab
// removed, hm_K / hto_K the hooks moved and where.
const REVOKE_BATCH_FUNCTIONS = String.raw`
# Numbers the users: users_idx lists, for each distinct user, the number of its first grant.
index_batch() {
  users_idx= n=0
  while [ "$n" -lt "$count" ]; do
    n=$((n + 1))
    val "a_1_$n"
    owner_of "$v" "$n"
    eval "o_$n=\$owner"
    if [ "$owner" = "$n" ]; then
      users_idx="$users_idx $n"
      eval "pl_$n= gl_$n= end_$n=1 st_$n=absent code_$n= err_$n= rm_$n= rg_$n= fg_$n= gerr_$n= cr_$n= hm_$n= hto_$n="
      eval "uid_$n=\$a_2_$n"
    fi
    val "a_3_$n"
    append "pl_$owner" "$v$NL"
    val "a_5_$n"
    [ "$v" = 1 ] || eval "end_$owner=0"
    val "a_4_$n"
    union_groups "$owner" "$v"
  done
}

# Every user's principals out, each user's file in one rewrite; one user's failure does not stop the others.
remove_all_principals() {
  principal_error=
  for k in $users_idx; do
    val "a_1_$k"
    user=$v
    val "pl_$k"
    if remove_principals "$user" "$v"; then
      [ -z "$found" ] || append "rm_$k" "$found"
    else
      principal_error="$principal_error $k"
    fi
  done
}

# Kills every process of the users numbered in $1 (see end_processes): per round one ps for all of them, then kill -KILL
# -1 sent as each user that still has a live process (real, effective or saved UID; zombies are dead already), until
# none has. A user whose processes survive 5 s fails.
end_processes_of_batch() {
  todo=$1 tries=0
  while [ -n "$todo" ]; do
    uids=' '
    for k in $todo; do val "puid_$k"; uids="$uids$v "; done
    table=$(ps -e -o pid=,uid=,ruid=,suid=,stat=) || fail 3 "ps failed: $table"
    alive=' '
    while read -r _ euid ruid suid stat; do
      case $stat in Z*) continue ;; esac
      for id in $euid $ruid $suid; do
        case $uids in *" $id "*) case $alive in *" $id "*) ;; *) alive="$alive$id " ;; esac ;; esac
      done
    done <<KEYWAY_PS
$table
KEYWAY_PS
    still=
    for k in $todo; do
      val "puid_$k"
      case $alive in *" $v "*) still="$still $k" ;; esac
    done
    todo=$still
    [ -n "$todo" ] || break
    if [ "$tries" -ge 50 ]; then
      for k in $todo; do
        val "a_1_$k"
        fail_user "$k" "$EXIT_PROCESSES_SURVIVE" "processes of $v are still alive after 5 s of kill -KILL (stuck in the kernel?)"
      done
      break
    fi
    [ "$tries" -eq 0 ] || sleep 0.1
    tries=$((tries + 1))
    for k in $todo; do
      val "puid_$k"
      uid=$v
      val "pgid_$k"
      setpriv --reuid="$uid" --regid="$v" --clear-groups kill -KILL -1 </dev/null 2>/dev/null || :
    done
  done
}

# One account-database change per managed user: the grants' groups it is a member of go (one getent for every group
# of the batch) and, when every grant of the user ends access, the account is locked and expired (unless it is
# already: one getent shadow for all), all in ONE usermod. If that usermod fails (a usermod older than shadow 4.13 has
# no --remove; a group file that cannot be written), each change is made on its own, so that a group that cannot be
# removed fails only the grants that give it.
close_accounts() {
  all= names=
  for k in $managed; do
    val "gl_$k"
    for group in $v; do
      case " $all " in *" $group "*) ;; *) all="$all $group" ;; esac
    done
    val "end_$k"
    [ "$v" != 1 ] || { val "a_1_$k"; names="$names $v"; }
  done
  read_groups "$all"
  locked=' '
  if [ -n "$names" ]; then
    shadow=$(getent shadow $names) || [ $? -eq 2 ] || fail 3 "getent shadow failed: $shadow"
    while IFS=: read -r name pw _ _ _ _ _ expire _; do
      case $pw in '!'*) if [ "$expire" = 1 ]; then locked="$locked$name "; fi ;; esac
    done <<KEYWAY_SHADOW
$shadow
KEYWAY_SHADOW
  fi
  for k in $managed; do
    val "a_1_$k"
    user=$v
    val "gl_$k"
    groups_of_user "$user" "$v"
    lock=
    val "end_$k"
    if [ "$v" = 1 ]; then case $locked in *" $user "*) ;; *) lock=1 ;; esac; fi
    [ -n "$member_of" ] || [ -n "$lock" ] || continue
    csv= sep=
    for group in $member_of; do csv="$csv$sep$group" sep=,; done
    if [ -n "$lock" ] && [ -n "$csv" ]; then set -- --lock --expiredate 1 --remove --groups "$csv"
    elif [ -n "$lock" ]; then set -- --lock --expiredate 1
    else set -- --remove --groups "$csv"
    fi
    if usermod "$@" "$user" >/dev/null 2>&1 </dev/null; then
      eval "rg_$k=\$member_of"
      continue
    fi
    if [ -n "$member_of" ]; then
      now=" $(id -nG "$user" 2>/dev/null </dev/null) " || now=
      for group in $member_of; do
        case $now in *" $group "*) ;; *) append "rg_$k" " $group"; continue ;; esac
        if msg=$(gpasswd -d "$user" "$group" 2>&1 >/dev/null </dev/null); then
          append "rg_$k" " $group"
        else
          append "fg_$k" " $group"
          eval "gerr_$k=\"\$group: \$msg\""
        fi
      done
    fi
    if [ -n "$lock" ]; then
      msg=$(usermod --lock --expiredate 1 "$user" 2>&1 </dev/null) || fail_user "$k" "$?" "$msg"
    fi
  done
}

# For the users whose every grant ends access: removes what would act for them later without a login (as
# lock_account does): lingering user services, the crontab, at jobs.
stop_later_runs() {
  lock=
  for k in $managed; do
    val "end_$k"
    [ "$v" != 1 ] || lock="$lock $k"
  done
  [ -n "$lock" ] || return 0
  systemd=
  if [ -d /run/systemd/system ] && command -v loginctl >/dev/null 2>&1; then systemd=1; fi
  crontab=
  if command -v crontab >/dev/null 2>&1; then crontab=1; fi
  for k in $lock; do
    val "a_1_$k"
    user=$v
    if [ -n "$systemd" ]; then
      msg=$(timeout 10 loginctl disable-linger "$user" 2>&1 </dev/null) || { fail_user "$k" "$?" "$msg"; continue; }
      if timeout 10 loginctl show-user "$user" >/dev/null 2>&1 </dev/null; then
        msg=$(timeout 10 loginctl terminate-user "$user" 2>&1 </dev/null) || { fail_user "$k" "$?" "$msg"; continue; }
      fi
    fi
    if [ -n "$crontab" ] && crontab -l -u "$user" >/dev/null 2>&1 </dev/null; then
      msg=$(crontab -r -u "$user" 2>&1 </dev/null) || { fail_user "$k" "$?" "$msg"; continue; }
      eval "cr_$k=1"
    fi
  done
  if command -v atq >/dev/null 2>&1; then
    jobs=$(atq) || fail 3 "atq failed: $jobs"
    while read -r job rest; do
      owner=
      for word in $rest; do owner=$word; done
      for k in $lock; do
        val "a_1_$k"
        if [ -n "$owner" ] && [ "$v" = "$owner" ]; then
          msg=$(atrm "$job" 2>&1 </dev/null) || fail_user "$k" "$?" "$msg"
        fi
      done
    done <<KEYWAY_ATQ
$jobs
KEYWAY_ATQ
  fi
}

# Moves the mail hooks aside for the users whose access ends, once their processes are dead and their accounts locked.
move_batch_hooks() {
  for k in $managed; do
    val "end_$k"
    [ "$v" = 1 ] || continue
    val "code_$k"
    [ -z "$v" ] || continue
    val "home_$k"
    move_hooks_in "$v"
    eval "hm_$k=\$hooks_moved hto_$k=\$hooks_aside"
    if [ -n "$hooks_left" ]; then
      fail_user "$k" "$EXIT_HOOKS_LEFT" "could not move aside$hooks_left in $home (a mount point there, or no room): remove them by hand; the account is locked and its processes ended"
    fi
  done
}

# Per grant, in order: what was done for it and its outcome (see REVOKE_BATCH_SCRIPT).
report_batch() {
  n=0
  while [ "$n" -lt "$count" ]; do
    n=$((n + 1))
    val "o_$n"
    k=$v
    val "a_3_$n"
    principal=$v
    val "rm_$k"
    case "$NL$v" in *"$NL$principal$NL"*) echo "principal-removed.$n=1" ;; esac
    val "st_$k"
    state=$v
    if [ "$state" = absent ]; then echo "account.$n=absent"; fi
    val "rg_$k"
    removed_groups=" $v "
    val "fg_$k"
    failed_groups=" $v "
    failed_here=
    val "a_4_$n"
    if [ "$v" != - ]; then
      old_ifs=$IFS
      IFS=,
      for group in $v; do
        case $removed_groups in *" $group "*) echo "group-removed.$n=$group" ;; esac
        case $failed_groups in *" $group "*) failed_here=1 ;; esac
      done
      IFS=$old_ifs
    fi
    val "cr_$k"
    if [ -n "$v" ]; then echo "crontab-removed.$n=1"; fi
    val "hm_$k"
    if [ -n "$v" ]; then echo "hooks-moved.$n=$v"; val "hto_$k"; echo "hooks-moved-to.$n=$v"; fi
    val "code_$k"
    if [ -n "$v" ]; then
      echo "failed.$n=$v"
      val "err_$k"
      echo "error.$n=$v"
    elif [ -n "$failed_here" ]; then
      echo "failed.$n=1"
      val "gerr_$k"
      echo "error.$n=could not remove the group $v"
    else
      val "end_$k"
      if [ "$v" = 1 ] && [ "$state" = managed ]; then echo "access-ended.$n=1"; fi
      echo "done.$n=1"
    fi
  done
}
`;

// The provisioning batch, on top of BATCH_FUNCTIONS: per grant N gcode_N / gerr_N when its shell or a group is
// missing on this server; per user K new_K 1 when its account was created now.
const PROVISION_BATCH_FUNCTIONS = String.raw`
not_bootstrapped() {
  fail "$EXIT_NOT_BOOTSTRAPPED" "Keyway is not set up on this server (no $PRINCIPALS_DIR or group $KEYWAY_GROUP): run keyway hosts bootstrap"
}

# Checks each grant's login shell and groups (one getent for every group of the batch and keyway-users, whose absence
# stops the batch): a missing one fails that grant only (gcode_N, gerr_N).
check_grants() {
  all=$KEYWAY_GROUP n=0
  while [ "$n" -lt "$count" ]; do
    n=$((n + 1))
    val "a_5_$n"
    [ "$v" != - ] || continue
    old_ifs=$IFS
    IFS=,
    for group in $v; do case " $all " in *" $group "*) ;; *) all="$all $group" ;; esac; done
    IFS=$old_ifs
  done
  read_groups "$all"
  case $group_names in *" $KEYWAY_GROUP "*) ;; *) not_bootstrapped ;; esac
  n=0
  while [ "$n" -lt "$count" ]; do
    n=$((n + 1))
    eval "gcode_$n= gerr_$n="
    val "a_3_$n"
    if [ ! -x "$v" ]; then
      eval "gcode_$n=\$EXIT_SHELL_MISSING gerr_$n=\"the login shell \$v does not exist on this server: install it or change login_shell\""
      continue
    fi
    val "a_5_$n"
    [ "$v" != - ] || continue
    old_ifs=$IFS
    IFS=,
    for group in $v; do
      case $group_names in *" $group "*) continue ;; esac
      eval "gcode_$n=\$EXIT_GROUP_MISSING gerr_$n=\"the group \$group does not exist on this server: create it, or change grant_groups\""
      break
    done
    IFS=$old_ifs
  done
}

# Numbers the users of the grants that passed the checks (users_idx and o_N, as the revoke does), with per user K the
# union of their groups gl_K and their principals pl_K; UID, shell and record flag are those of its first grant (the
# same for every grant of a user on one server). uid_K is "-" when the UID is chosen now: the account must be absent.
index_provision() {
  users_idx= n=0
  while [ "$n" -lt "$count" ]; do
    n=$((n + 1))
    eval "o_$n="
    val "gcode_$n"
    [ -z "$v" ] || continue
    val "a_1_$n"
    owner_of "$v" "$n"
    eval "o_$n=\$owner"
    if [ "$owner" = "$n" ]; then
      users_idx="$users_idx $n"
      eval "pl_$n= gl_$n= st_$n=absent code_$n= err_$n= new_$n= uid_$n=-"
      val "a_6_$n"
      [ "$v" != 1 ] || eval "uid_$n=\$a_2_$n"
    fi
    val "a_4_$n"
    append "pl_$owner" "$v$NL"
    val "a_5_$n"
    union_groups "$owner" "$v"
  done
}

# Sets csv to keyway-users and user $1's groups gl_K, comma-separated.
groups_csv() {
  csv=$KEYWAY_GROUP
  val "gl_$1"
  for group in $v; do csv="$csv,$group"; done
}

# Creates the absent accounts, each with all its groups in one useradd, after one getent for all their UIDs: a UID
# another account holds fails that user's grants (the caller then gives it up and tries another).
create_accounts() {
  absent= uids=
  for k in $users_idx; do
    val "st_$k"
    [ "$v" = absent ] || continue
    absent="$absent $k"
    val "a_2_$k"
    uids="$uids $v"
  done
  [ -n "$absent" ] || return 0
  entries=$(getent passwd $uids) || [ $? -eq 2 ] || fail 3 "getent passwd failed: $entries"
  taken=' '
  while IFS=: read -r _ _ tuid _; do taken="$taken$tuid "; done <<KEYWAY_PASSWD
$entries
KEYWAY_PASSWD
  for k in $absent; do
    val "a_2_$k"
    uid=$v
    case $taken in *" $uid "*) fail_user "$k" "$EXIT_UID_TAKEN" "UID $uid is already used by another account"; continue ;; esac
    groups_csv "$k"
    val "a_3_$k"
    shell=$v
    val "a_1_$k"
    # No expiry date, whatever useradd's defaults say (a revoke sets one; a new grant clears it, as usermod does).
    if msg=$(useradd --create-home --user-group --uid "$uid" --shell "$shell" --comment "$MARKER" --password '*' \
      --expiredate '' --groups "$csv" "$v" 2>&1 </dev/null); then
      eval "new_$k=1"
    else
      fail_user "$k" "$?" "$msg"
    fi
  done
}

# Opens Keyway's existing accounts again (a revoke locked and expired them; password '*': no password login) with
# their grants' groups and the login shell: one usermod each, only where something is to change (one getent shadow
# for all, the group table read under the lock).
open_accounts() {
  [ -n "$managed" ] || return 0
  names=
  for k in $managed; do val "a_1_$k"; names="$names $v"; done
  shadow=$(getent shadow $names) || [ $? -eq 2 ] || fail 3 "getent shadow failed: $shadow"
  open=' '
  while IFS=: read -r name pw _ _ _ _ _ expire _; do
    if [ "$pw" = '*' ] && [ -z "$expire" ]; then open="$open$name "; fi
  done <<KEYWAY_SHADOW
$shadow
KEYWAY_SHADOW
  for k in $managed; do
    val "a_1_$k"
    user=$v
    val "gl_$k"
    wanted="$KEYWAY_GROUP$v"
    groups_of_user "$user" "$wanted"
    change=
    for group in $wanted; do case " $member_of " in *" $group "*) ;; *) change=1 ;; esac; done
    case $open in *" $user "*) ;; *) change=1 ;; esac
    val "a_3_$k"
    shell=$v
    val "shell_$k"
    [ "$v" = "$shell" ] || change=1
    [ -n "$change" ] || continue
    groups_csv "$k"
    msg=$(usermod --password '*' --expiredate '' --shell "$shell" --append --groups "$csv" "$user" 2>&1 </dev/null) \
      || fail_user "$k" "$?" "$msg"
  done
}

# Adds each user's missing principals to its principals file in one write by the shell itself (no command; a new file
# gets mode 0644 from the umask).
add_all_principals() {
  for k in $users_idx; do
    val "code_$k"
    [ -z "$v" ] || continue
    val "a_1_$k"
    file="$PRINCIPALS_DIR/$v"
    val "pl_$k"
    missing=$v
    if [ -f "$file" ]; then
      have=$NL missing=
      while IFS= read -r line || [ -n "$line" ]; do have="$have$line$NL"; done < "$file"
      old_ifs=$IFS
      IFS=$NL
      set -f
      for p in $v; do case $have in *"$NL$p$NL"*) ;; *) missing="$missing$p$NL" ;; esac; done
      set +f
      IFS=$old_ifs
    fi
    [ -n "$missing" ] || continue
    { printf '%s' "$missing" >> "$file"; } 2>/dev/null || fail_user "$k" 1 "could not write $file"
  done
}

# Per grant, in order: created=1 when its account was created now, then done=1 or failed=CODE with error=TEXT.
report_provision() {
  n=0
  while [ "$n" -lt "$count" ]; do
    n=$((n + 1))
    val "gcode_$n"
    if [ -n "$v" ]; then
      echo "failed.$n=$v"
      val "gerr_$n"
      echo "error.$n=$v"
      continue
    fi
    val "o_$n"
    k=$v
    val "new_$k"
    [ -z "$v" ] || echo "created.$n=1"
    val "code_$k"
    if [ -n "$v" ]; then
      echo "failed.$n=$v"
      val "err_$k"
      echo "error.$n=$v"
    else
      echo "done.$n=1"
    fi
  done
}
`;

/**
 * Revokes a batch of grants on this server: $1 N, then per grant five arguments: user, UID Keyway recorded (may be
 * empty), principal, groups to remove (comma-separated), 1 = end access (no other live grant of the user here).
 *
 * The only revoke script: a revoke of one grant is a batch of one. In this order, for every grant at once: first
 * every principal of the batch goes (one rewrite of each user's principals file, before anything that could wait or
 * fail; one user's failure does not stop the others; with no room for the rewrite the whole file goes: closed, never
 * open), then the lock is taken and they go once more (a Keyway operation holding it may have rewritten a file
 * meanwhile). Then, for all users together, each step once: the accounts are checked to be Keyway's (one getent; a
 * refusal fails that user's grants only, and nothing else of the account is touched). Then EVERY process of every
 * user is killed, on every revoke (one ps per round for all, kill -KILL -1 as each user that has a live process,
 * until none has; zombies are dead already): a session cannot be tied to the certificate that opened it, so this is
 * the only way to end the revoked request's sessions (and port forwards) and every process holding a group about to
 * be removed; and killing first means no step that writes (and could fail on a full disk) stands between the revoke
 * and the sessions' end. Then, in ONE usermod per user, the grants' groups go where the user is a member and the
 * accounts whose every grant in the batch ends access (no other live grant of the user here) are locked and expired
 * (unless they are already); should that usermod fail, each change is made on its own, so that a group that cannot be
 * removed fails only the grants that give it. Where access ends, the crontab, at jobs and lingering services go;
 * every process is killed once more (a login under another grant, or a cron job, started in between),
 * so that nothing runs with a removed group, and nothing at all where access ends. An account that stays open (end
 * access 0) keeps its other grants: their sessions end too, and log in again with their certificates. Last, where
 * access ends, mail hooks are moved aside (by rename, once nothing of the user's runs). Per grant:
 * principal-removed, account=absent, group-removed (one line each), crontab-removed, hooks-moved, hooks-moved-to,
 * access-ended, then done=1 or failed=CODE with error=TEXT. Few commands per grant: the values live in shell variables
 * (named by number, never by value) and are compared by the shell itself.
 */
export const REVOKE_BATCH_SCRIPT = script(BATCH_FUNCTIONS + REVOKE_BATCH_FUNCTIONS + String.raw`
read_batch 5 "$@"
# Raised once, here: becoming the user must not fail on the user's process limit.
prlimit --pid $$ --nproc=unlimited 2>/dev/null || :
index_batch
remove_all_principals
require_tools flock getent usermod gpasswd ps setpriv mktemp
if [ -d "$KEYWAY_DIR" ]; then take_lock; fi
remove_all_principals
for k in $principal_error; do val "a_1_$k"; fail_user "$k" 1 "could not rewrite $PRINCIPALS_DIR/$v"; done
require_keyway_accounts
end_processes_of_batch "$managed"
close_accounts
stop_later_runs
end_processes_of_batch "$managed"
move_batch_hooks
report_batch
`);

/** $1 first UID of the range, $2 last UID, then users. Prints account.N=… for the Nth user and uid-taken=N per UID in the range. */
export const INSPECT_BATCH_SCRIPT = script(String.raw`
min=$1 max=$2
shift 2
n=0
for user in "$@"; do
  n=$((n + 1))
  echo "account.$n=$(account_state "$user")"
done
getent passwd | awk -F: -v min="$min" -v max="$max" '$3 >= min && $3 <= max { print "uid-taken=" $3 }'
`);

/**
 * Provisions a batch of grants on this server: $1 N, then per grant six arguments: user, UID, login shell, principal,
 * groups (comma-separated, may be empty), 1 = Keyway recorded this account with this UID (it may exist, and is opened
 * again) or 0 = the UID is chosen now (the account must not exist). The only provisioning script: one grant is a batch
 * of one. Per grant its shell and groups are checked (a missing one fails that grant only); then under the lock, for
 * all users together, each step once: the accounts are checked to be absent or Keyway's (one getent; a refusal fails
 * that user's grants only), the absent ones created with all their groups in one useradd each (after one getent for
 * their UIDs), Keyway's opened again in one usermod each where something is to change, and each user's principals
 * added in one write. Per grant: created=1 when its account was created now, then done=1 or failed=CODE with error=TEXT.
 */
export const PROVISION_BATCH_SCRIPT = script(BATCH_FUNCTIONS + PROVISION_BATCH_FUNCTIONS + String.raw`
read_batch 6 "$@"
require_tools flock getent useradd usermod
[ -d "$PRINCIPALS_DIR" ] || not_bootstrapped
take_lock
check_grants
index_provision
require_keyway_accounts
create_accounts
open_accounts
add_all_principals
report_provision
`);

/**
 * Read-only: what Keyway access this server holds, for `keyway hosts reconcile`. No arguments. Prints
 * `principal=<user> <principal>` for every line of every principals file in the principals directory (temporary files
 * of a rewrite, named with a leading dot, are skipped), and `account=<user> <UID>` for every account marked
 * keyway-managed with a UID of 1000 or more. The values are the server's: the caller validates them before acting.
 */
export const RECONCILE_INSPECT_SCRIPT = script(String.raw`
if [ -d "$PRINCIPALS_DIR" ]; then
  for file in "$PRINCIPALS_DIR"/*; do
    [ -f "$file" ] && [ ! -h "$file" ] || continue
    user=$(basename -- "$file")
    while IFS= read -r line || [ -n "$line" ]; do
      [ -z "$line" ] || printf 'principal=%s %s\n' "$user" "$line"
    done < "$file"
  done
fi
getent passwd | awk -F: -v m="$MARKER" '$3 >= 1000 && ($5 == m || index($5, m ",") == 1) { print "account=" $1 " " $3 }'
`);
