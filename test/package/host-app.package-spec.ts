import { ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Client } from 'pg';

/**
 * The package as a host gets it: `npm pack`, installed with its peers from the registry into a fresh app
 * whose source files are the README's host snippets (so the README cannot drift from what works), built
 * with the newest TypeScript as CommonJS and as ESM, started on PostgreSQL, and driven through the
 * package's CLI binary and HTTP.
 */

const ROOT = resolve(__dirname, '../..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

interface Done {
  code: number;
  stdout: string;
  stderr: string;
}

function sh(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<Done> {
  return new Promise((done) => {
    execFile(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

async function ok(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<string> {
  const r = await sh(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** The README's code blocks marked `<!-- host-file: path -->`, by path. */
function readmeHostFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const m of README.matchAll(/<!-- host-file: (\S+) -->\n```ts\n([\s\S]*?)```/g)) files.set(m[1], m[2]);
  return files;
}

/** The README's install command for hosts (`<!-- host-install -->`), as arguments of `npm install`. */
function readmeInstallArgs(): string[] {
  const m = README.match(/<!-- host-install -->\n```sh\nnpm install (.*)\n```/);
  if (!m) throw new Error('README.md has no <!-- host-install --> block');
  return m[1].trim().split(/\s+/);
}

/** An environment for the host's processes: nothing of this repository's test setup leaks in. */
function hostEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...extra };
  return env;
}

async function waitFor(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

const PG_URL = process.env.DATABASE_URL;

describe('the packed package in a fresh host app', () => {
  let work: string;
  let host: string;
  let legacyHost: string;
  let tarball: string;
  let packed: string[];
  let dbUrl: string;
  let dbName: string;
  let admin: Client;

  beforeAll(async () => {
    if (!PG_URL) throw new Error('npm run test:package needs DATABASE_URL (a PostgreSQL server it may create a database on)');
    work = mkdtempSync(join(tmpdir(), 'nor-package-'));
    // prepack cleans dist/ and builds: the tarball is what a publish would upload.
    const [info] = JSON.parse(await ok('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT, timeoutMs: 300_000 })) as Array<{
      filename: string;
      files: Array<{ path: string }>;
    }>;
    tarball = join(work, info.filename);
    packed = info.files.map((f) => f.path);

    host = join(work, 'host');
    mkdirSync(host);
    writeFileSync(join(host, 'package.json'), JSON.stringify({ name: 'host-app', version: '1.0.0', private: true }, null, 2));
    const install = readmeInstallArgs().map((a) => (a === 'nestjs-oauth2-revocation' ? tarball : a));
    // What a Nest host has anyway for building: the newest TypeScript, Node and Express types.
    await ok('npm', ['install', '--no-audit', '--no-fund', ...install, 'typescript@latest', '@types/node@20', '@types/express@5'], {
      cwd: host,
      timeoutMs: 300_000,
    });

    // The older line the peer ranges also accept: the same install line, with Nest 11 and TypeORM 0.3.
    legacyHost = join(work, 'host-nest11');
    mkdirSync(legacyHost);
    writeFileSync(join(legacyHost, 'package.json'), JSON.stringify({ name: 'host-app-nest11', version: '1.0.0', private: true }, null, 2));
    const legacy = install.map((a) => a.replace(/^(@nestjs\/[a-z-]+)@12$/, '$1@11').replace(/^typeorm@1$/, 'typeorm@0.3'));
    expect(legacy.filter((a) => /@11$|@0\.3$/.test(a))).toHaveLength(5);
    await ok('npm', ['install', '--no-audit', '--no-fund', ...legacy, 'typescript@latest', '@types/node@20', '@types/express@5'], {
      cwd: legacyHost,
      timeoutMs: 300_000,
    });

    dbName = `nor_pkg_${randomBytes(4).toString('hex')}`;
    admin = new Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    const u = new URL(PG_URL);
    u.pathname = `/${dbName}`;
    dbUrl = u.toString();
  }, 600_000);

  afterAll(async () => {
    await admin?.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
    await admin?.end();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('ships the build, its types, the sources its maps point to and the LICENSE, and no specs', () => {
    for (const f of ['package.json', 'LICENSE', 'README.md', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/host/cli/admin.js']) expect(packed).toContain(f);
    expect(packed.filter((f) => /\.spec\.|\.e2e-spec\./.test(f))).toEqual([]);
    const maps = packed.filter((f) => f.endsWith('.js.map'));
    expect(maps.length).toBeGreaterThan(10);
    const installed = join(host, 'node_modules/nestjs-oauth2-revocation');
    const missing = maps.flatMap((map) => {
      const { sources } = JSON.parse(readFileSync(join(installed, map), 'utf8')) as { sources: string[] };
      return sources.map((s) => join(dirname(map), s)).filter((s) => !packed.includes(s));
    });
    expect(missing).toEqual([]);
  });

  it('builds with the newest TypeScript on the registry', async () => {
    const newest = (await ok('npm', ['view', 'typescript', 'version'], { cwd: host })).trim();
    expect(JSON.parse(readFileSync(join(host, 'node_modules/typescript/package.json'), 'utf8')).version).toBe(newest);
  });

  it('installs Nest and TypeORM once, as the host\'s own, and no embedded database', () => {
    const nested = join(host, 'node_modules/nestjs-oauth2-revocation/node_modules');
    for (const peer of ['@nestjs/core', '@nestjs/common', 'typeorm', '@nestjs/typeorm', 'pg']) {
      expect(existsSync(join(host, 'node_modules', peer))).toBe(true);
      expect(existsSync(join(nested, peer))).toBe(false);
    }
    expect(existsSync(join(host, 'node_modules/@electric-sql/pglite'))).toBe(false);
  });

  it('has the CLI binary, which prints its commands and refuses to invent a database', async () => {
    const bin = join(host, 'node_modules/.bin/nestjs-oauth2-revocation');
    const help = await sh(bin, ['--help'], { cwd: host, env: hostEnv({}) });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('token:issue');
    const none = await sh(bin, ['client:list'], { cwd: host, env: hostEnv({}) });
    expect({ code: none.code, stderr: none.stderr }).toEqual({ code: 1, stderr: expect.stringMatching(/^error: no database configured/) });
    expect(existsSync(join(host, '.data'))).toBe(false);
    const embedded = await sh(bin, ['client:list', '--create-embedded'], { cwd: host, env: hostEnv({}) });
    expect({ code: embedded.code, stderr: embedded.stderr }).toEqual({
      code: 1,
      stderr: expect.stringContaining('the embedded database is not installed: set DATABASE_URL to a PostgreSQL URL, or npm install @electric-sql/pglite @electric-sql/pglite-socket'),
    });
  });

  describe.each([
    ['CommonJS on Nest 12 / TypeORM 1', 'commonjs', false],
    ['ESM on Nest 12 / TypeORM 1', 'module', false],
    ['CommonJS on Nest 11 / TypeORM 0.3', 'commonjs', true],
  ])('the README host app built as %s with the newest TypeScript', (label, type, onLegacy) => {
    let app: ChildProcess | undefined;
    let output = '';
    let url: string;

    afterAll(async () => {
      if (app && app.exitCode === null) {
        app.kill('SIGTERM');
        await new Promise((r) => app!.once('exit', r));
      }
    });

    it('compiles the README snippets as written and starts on PostgreSQL', async () => {
      const root = onLegacy ? legacyHost : host;
      const major = JSON.parse(readFileSync(join(root, 'node_modules/@nestjs/core/package.json'), 'utf8')).version.split('.')[0];
      expect(major).toBe(onLegacy ? '11' : '12');
      const dir = join(root, type);
      const files = readmeHostFiles();
      expect([...files.keys()].sort()).toEqual([
        'src/app.module.ts',
        'src/auth-server.module.ts',
        'src/device-cleanup.ts',
        'src/device-flow.module.ts',
        'src/main.ts',
        'src/metadata.module.ts',
        'src/sign-in.module.ts',
      ]);
      for (const [path, text] of files) {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), text);
      }
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ type }));
      // Nest's starter settings, NodeNext: the package.json "type" above makes the output CommonJS or ESM.
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            module: 'nodenext',
            moduleResolution: 'nodenext',
            target: 'es2023',
            experimentalDecorators: true,
            emitDecoratorMetadata: true,
            strict: true,
            skipLibCheck: true,
            types: ['node'],
            rootDir: 'src',
            outDir: 'dist',
          },
          include: ['src'],
        }),
      );
      const tsc = await sh(join(root, 'node_modules/.bin/tsc'), ['-p', dir], { cwd: root });
      expect(tsc.stdout + tsc.stderr).toBe('');
      expect(tsc.code).toBe(0);
      const built = readFileSync(join(dir, 'dist/main.js'), 'utf8');
      expect(/\brequire\(/.test(built)).toBe(type === 'commonjs');

      const port = 20000 + Math.floor(Math.random() * 20000);
      url = `http://127.0.0.1:${port}`;
      app = spawn('node', [join(dir, 'dist/main.js')], { cwd: root, env: hostEnv({ DATABASE_URL: dbUrl, PORT: String(port) }) });
      app.stdout!.on('data', (d) => (output += d));
      app.stderr!.on('data', (d) => (output += d));
      await waitFor(async () => {
        if (app!.exitCode !== null) throw new Error(`the host app exited: ${output}`);
        return (await fetch(`${url}/.well-known/oauth-authorization-server`)).status === 200;
      }, 60_000, `the host app to answer (output so far: ${output})`).catch((err) => {
        throw new Error(`${(err as Error).message}\n${output}`);
      });
    });

    it('serves one discovery document with every grant type: the modules\', the device flow\'s and the host\'s own', async () => {
      const document = (await (await fetch(`${url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
      expect(document.issuer).toBe('https://auth.example.com');
      expect(document.revocation_endpoint).toBe('https://auth.example.com/oauth2/revoke');
      expect(document.device_authorization_endpoint).toBe('https://auth.example.com/oauth2/device');
      expect(document.authorization_endpoint).toBe('https://auth.example.com/oauth2/authorize');
      expect([...(document.grant_types_supported as string[])].sort()).toEqual(
        [
          'authorization_code',
          'client_credentials',
          'refresh_token',
          'urn:ietf:params:oauth:grant-type:device_code',
          'urn:ietf:params:oauth:grant-type:jwt-bearer',
        ].sort(),
      );
    });

    it('issues through the CLI binary, revokes over HTTP, and introspection sees it at once; the listener hears it', async () => {
      const root = onLegacy ? legacyHost : host;
      const bin = join(root, 'node_modules/.bin/nestjs-oauth2-revocation');
      const client = `web-${label.replace(/\W+/g, '-')}`;
      // One variant names the database by flag, the other by environment.
      const dbArgs = type === 'module' ? ['--database-url', dbUrl] : [];
      const dbEnv = hostEnv(type === 'module' ? {} : { DATABASE_URL: dbUrl });
      const created = JSON.parse(await ok(bin, ['client:create', '--id', client, '--auth-method', 'client_secret_basic', ...dbArgs], { cwd: root, env: dbEnv }));
      const secret = created.client_secret as string;
      const login = JSON.parse(await ok(bin, ['token:issue', '--client', client, '--subject', 'alice', '--scope', 'openid', ...dbArgs], { cwd: root, env: dbEnv }));
      const auth = `Basic ${Buffer.from(`${client}:${secret}`).toString('base64')}`;
      const post = (path: string, body: string) =>
        fetch(`${url}/${path}`, { method: 'POST', headers: { Authorization: auth, 'Content-Type': 'application/x-www-form-urlencoded' }, body });

      const before = await post('oauth2/introspect', `token=${login.refresh_token}`);
      expect(await before.json()).toMatchObject({ active: true, client_id: client, sub: 'alice', scope: 'openid' });

      const revoked = await post('oauth2/revoke', `token=${login.access_token}`);
      expect(revoked.status).toBe(200);
      expect(await revoked.text()).toBe('');

      for (const token of [login.access_token, login.refresh_token]) {
        expect(await (await post('oauth2/introspect', `token=${token}`)).json()).toEqual({ active: false });
      }
      // DeviceCleanup (README, Events) got the event of this revocation.
      await waitFor(async () => output.includes(`deleting the device of grant ${login.grant_id}`), 10_000, 'the revocation listener');
      expect(output).not.toContain(secret);
    });
  });
});
