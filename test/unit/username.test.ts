import { describe, expect, it } from 'vitest';
import { findUsernameCollisions, usernameForEmail, validateUsername } from '../../src/core/username.js';

describe('Linux usernames', () => {
  it('derives a name from the e-mail local part', () => {
    expect(usernameForEmail('Henk.Bakker@example.com')).toBe('henk_bakker');
    expect(usernameForEmail('dev+ops@example.com')).toBe('dev_ops');
    expect(usernameForEmail('1337@example.com')).toBe('_1337');
  });

  it('uses the configured override', () => {
    expect(usernameForEmail('henk@example.com', new Map([['henk@example.com', 'devhba']]))).toBe('devhba');
  });

  it.each([
    ['root', /system or reserved/],
    ['sshd', /system or reserved/],
    ['keyway', /system or reserved/],
    ['libvirt', /system or reserved/], // a privileged group's name: useradd would make it the user's own group
    ['disk', /system or reserved/],
    ['$(reboot)', /not a valid Linux username/],
    ['a;b', /not a valid Linux username/],
    ['a b', /not a valid Linux username/],
    ['a'.repeat(40), /not a valid Linux username/],
    ['Alice', /not a valid Linux username/],
    ['-rf', /not a valid Linux username/],
    ['аlice', /not a valid Linux username/], // Cyrillic а
    ['', /not a valid Linux username/],
  ])('refuses %j', (name, message) => {
    expect(() => validateUsername(name)).toThrowError(message);
  });

  it.each(['root@example.com', 'a;b@example.com', '$(reboot)@example.com', 'аlice@example.com', 'ﬁle@example.com'])(
    'refuses to derive a name from %j',
    (email) => {
      expect(() => usernameForEmail(email)).toThrowError(expect.objectContaining({ code: 'username_invalid' }));
    },
  );

  it('refuses a derived name longer than the limit only after truncation keeps it valid', () => {
    expect(usernameForEmail(`${'a'.repeat(40)}@example.com`)).toBe('a'.repeat(32));
  });

  it('detects two e-mails that map to the same username', () => {
    expect(findUsernameCollisions(['ann.lee@a.com', 'ann_lee@b.com', 'bob@a.com'])).toEqual([['ann.lee@a.com', 'ann_lee@b.com', 'ann_lee']]);
  });
});
