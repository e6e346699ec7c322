import Handlebars from 'handlebars';
import type { Response } from 'express';

/**
 * Headers of every HTML page the server renders (login, consent, errors): no script runs on them, none
 * may be framed (clickjacking), none is cached, and no URL leaks through the Referer header.
 */
export const HTML_PAGE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Type': 'text/html; charset=utf-8',
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Frame-Options': 'DENY',
  'Cache-Control': 'no-store',
  Pragma: 'no-cache',
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
});

/** A template compiled once; `{{value}}` escapes HTML (Handlebars' default). */
export function htmlTemplate<T>(source: string): (data: T) => string {
  return Handlebars.compile<T>(source, { strict: true });
}

const ERROR_PAGE = htmlTemplate<{ title: string; message: string }>(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;line-height:1.5}</style>
</head><body><h1>{{title}}</h1><p>{{message}}</p></body></html>
`);

/** Sends an HTML error page: for a browser that cannot safely be sent anywhere else. */
export function sendErrorPage(res: Response, status: number, title: string, message: string): void {
  res.status(status).set(HTML_PAGE_HEADERS).send(ERROR_PAGE({ title, message }));
}
