import { Controller, Get, HttpCode, ServiceUnavailableException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { RevocationEvents } from '../core/revocation-events';

/** `GET /health`: 200 when the database answers, 503 otherwise. */
@Controller('health')
export class HealthController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly events: RevocationEvents,
  ) {}

  @Get()
  @HttpCode(200)
  async check(): Promise<{ status: 'ok'; revocation_events: { failed_deliveries: number } }> {
    try {
      await this.dataSource.query('SELECT 1');
    } catch {
      throw new ServiceUnavailableException({ status: 'unavailable', message: 'the database does not answer' });
    }
    // Listener failures are retried; a growing count says a listener keeps failing (see the log).
    return { status: 'ok', revocation_events: { failed_deliveries: this.events.stats().failedDeliveries } };
  }
}
