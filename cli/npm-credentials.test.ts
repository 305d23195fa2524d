import { credentialsFor, nerfDarts, parseNpmrc } from './npm-credentials';

describe('npm credentials lookup', () => {
  it('parses npmrc lines like npm: comments, quotes, ${ENV}', () => {
    const cfg = parseNpmrc(
      ['; comment', '# comment', 'registry = http://127.0.0.1:4873/', '//127.0.0.1:4873/:_authToken="${TOKEN}"', 'literal=\\${NOT}', '[section]', 'broken'].join('\n'),
      { TOKEN: 'tok-123' },
    );
    expect(cfg.get('registry')).toBe('http://127.0.0.1:4873/');
    expect(cfg.get('//127.0.0.1:4873/:_authToken')).toBe('tok-123');
    expect(cfg.get('literal')).toBe('${NOT}');
    expect(cfg.has('broken')).toBe(false);
  });

  it('tries nerf darts from the most specific path up', () => {
    expect(nerfDarts('http://h:1/a/b/')).toEqual(['//h:1/a/b/', '//h:1/a/', '//h:1/']);
    expect(nerfDarts('https://h/')).toEqual(['//h/']);
  });

  it('picks the token of the registry, not of another one, most specific file first', () => {
    const project = parseNpmrc('//127.0.0.1:4873/:_authToken=project-token');
    const user = parseNpmrc('//127.0.0.1:4873/:_authToken=user-token\n//127.0.0.1:9999/:_authToken=other');
    expect(credentialsFor('http://127.0.0.1:4873/', [project, user])).toEqual({ kind: 'bearer', token: 'project-token' });
    expect(credentialsFor('http://127.0.0.1:4873/', [user])).toEqual({ kind: 'bearer', token: 'user-token' });
    expect(credentialsFor('http://127.0.0.1:5000/', [user])).toEqual({ kind: 'none' });
    expect(credentialsFor('http://127.0.0.1:4873/sub/path/', [user])).toEqual({ kind: 'bearer', token: 'user-token' });
  });

  it('understands _auth and username/_password', () => {
    expect(credentialsFor('http://h/', [parseNpmrc('//h/:_auth=YTpi')])).toEqual({ kind: 'basic', value: 'YTpi' });
    const pw = Buffer.from('secret').toString('base64');
    expect(credentialsFor('http://h/', [parseNpmrc(`//h/:username=alice\n//h/:_password=${pw}`)])).toEqual({
      kind: 'basic',
      value: Buffer.from('alice:secret').toString('base64'),
    });
  });
});
