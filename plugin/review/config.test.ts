import { parseReviewers } from './config';

describe('parseReviewers', () => {
  it('merges the config and CAPGATE_REVIEWERS, deduplicated, frozen', () => {
    const { value, issues } = parseReviewers({ users: ['alice', 'bob'], groups: ['security'] }, ' carol, alice ,,');
    expect(issues).toEqual([]);
    expect(value).toEqual({ users: ['alice', 'bob', 'carol'], groups: ['security'] });
    expect(Object.isFrozen(value.users)).toBe(true);
  });
  it('allows no reviewers (everything is then refused)', () => {
    expect(parseReviewers(undefined)).toEqual({ value: { users: [], groups: [] }, issues: [] });
  });
  it('reports every problem, including groups every user has', () => {
    expect(parseReviewers({ users: 'alice', groups: ['$authenticated', 'ok', 7], admins: [] }, 'a b').issues).toEqual([
      'capgate.reviewers.admins: unknown option (users, groups)',
      'capgate.reviewers.users: expected a list of names',
      'capgate.reviewers.groups: "$authenticated" is a group every user has; name the reviewers or a real group',
      'capgate.reviewers.groups: 7 is not a user or group name',
      'CAPGATE_REVIEWERS: "a b" is not a user name',
    ]);
  });
});
