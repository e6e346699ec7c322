import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** Remembered consents: per (subject, client), the set of scope tokens the person allowed. */
@Injectable()
export class ConsentsService {
  constructor(private readonly dataSource: DataSource) {}

  /** Whether the person already allowed this client every one of these scope tokens. */
  async covers(subject: string, clientId: string, scope: readonly string[]): Promise<boolean> {
    const rows: Array<{ covers: boolean }> = await this.dataSource.query(
      `SELECT scope @> $3::text[] AS covers FROM consents WHERE subject = $1 AND client_id = $2`,
      [subject, clientId, scope],
    );
    return rows[0]?.covers === true;
  }

  /** Adds these scope tokens to what the person allowed the client (a new scope asks again; what was allowed stays). */
  async remember(subject: string, clientId: string, scope: readonly string[]): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO consents (subject, client_id, scope) VALUES ($1, $2, $3::text[])
       ON CONFLICT (subject, client_id) DO UPDATE
         SET scope = ARRAY(SELECT DISTINCT s FROM unnest(consents.scope || EXCLUDED.scope) AS s ORDER BY s), granted_at = now()`,
      [subject, clientId, scope],
    );
  }
}
