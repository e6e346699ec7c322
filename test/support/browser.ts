import { parse, HTMLElement } from 'node-html-parser';

export interface Page {
  status: number;
  headers: Headers;
  /** The final URL (after same-origin redirects). */
  url: string;
  html: string;
  doc: HTMLElement;
}

/**
 * A browser as far as the login pages can tell: a cookie jar (name=value per origin, honouring Max-Age=0),
 * redirects followed within the server's origin, and forms submitted with the fields they carry. A
 * redirect to any other origin or scheme (the client's redirect URI) stops there: `clientRedirect`.
 */
export class TestBrowser {
  readonly cookies = new Map<string, string>();
  /** Where the server last sent the browser outside its own origin (the client's redirect URI). */
  clientRedirect?: string;
  /** Every answer's status and headers, in order (to check headers on each page). */
  readonly answers: Array<{ url: string; status: number; headers: Headers }> = [];

  constructor(private readonly origin: string, private readonly headers: Record<string, string> = {}) {}

  async get(url: string): Promise<Page> {
    return this.request(url, { method: 'GET' });
  }

  async post(url: string, fields: Record<string, string>): Promise<Page> {
    return this.request(url, { method: 'POST', body: new URLSearchParams(fields).toString(), headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
  }

  /** Submits the page's form (the one with this button, or the first), with `overrides` on top of its fields. */
  async submit(page: Page, overrides: Record<string, string> = {}, button?: { name: string; value: string }): Promise<Page> {
    const forms = page.doc.querySelectorAll('form');
    const form = button ? forms.find((f) => f.querySelector(`button[name="${button.name}"][value="${button.value}"]`)) : forms[0];
    if (!form) throw new Error(`no such form on ${page.url}:\n${page.html}`);
    const fields: Record<string, string> = {};
    for (const input of form.querySelectorAll('input')) {
      const name = input.getAttribute('name');
      if (name) fields[name] = input.getAttribute('value') ?? '';
    }
    if (button) fields[button.name] = button.value;
    const action = new URL(form.getAttribute('action') ?? '', page.url).toString();
    return this.post(action, { ...fields, ...overrides });
  }

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private async request(url: string, init: RequestInit): Promise<Page> {
    this.clientRedirect = undefined;
    let current = url;
    let options: RequestInit = init;
    for (let hops = 0; hops < 10; hops++) {
      const res = await fetch(current, { ...options, redirect: 'manual', headers: { ...this.headers, ...(options.headers as Record<string, string>), Cookie: this.cookieHeader() } });
      this.answers.push({ url: current, status: res.status, headers: res.headers });
      for (const c of res.headers.getSetCookie()) this.store(c);
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        const next = new URL(location, current);
        await res.arrayBuffer();
        if (next.origin !== this.origin) {
          this.clientRedirect = next.toString();
          return { status: res.status, headers: res.headers, url: current, html: '', doc: parse('') };
        }
        current = next.toString();
        options = { method: 'GET' };
        continue;
      }
      const html = await res.text();
      return { status: res.status, headers: res.headers, url: current, html, doc: parse(html) };
    }
    throw new Error('too many redirects');
  }

  private store(setCookie: string): void {
    const [pair, ...attrs] = setCookie.split(';');
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    if (attrs.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value === '') this.cookies.delete(name);
    else this.cookies.set(name, value);
  }
}

/** The visible text of an element, whitespace collapsed. */
export function text(el: HTMLElement | null | undefined): string {
  return (el?.textContent ?? '').replace(/\s+/g, ' ').trim();
}
