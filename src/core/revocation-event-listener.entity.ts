import { Column, CreateDateColumn, Entity, ForeignKey, PrimaryColumn } from 'typeorm';

/** A once-per-cluster revocation listener: the audit row after which it is owed events, and its failures. */
@Entity({ name: 'revocation_event_listeners' })
export class RevocationEventListenerEntity {
  @PrimaryColumn({ type: 'text' })
  listener: string;

  /** Every audit row up to this id was delivered (or predates the listener). */
  @Column({ type: 'bigint' })
  horizon: string;

  @Column({ type: 'bigint', default: 0 })
  failures: string;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;

  @Column({ name: 'last_failure_at', type: 'timestamptz', nullable: true })
  lastFailureAt: Date | null;
}

/** One event delivered to one once-per-cluster listener. */
@Entity({ name: 'revocation_event_deliveries' })
export class RevocationEventDeliveryEntity {
  @PrimaryColumn({ type: 'text' })
  @ForeignKey(() => RevocationEventListenerEntity, { name: 'revocation_event_deliveries_listener_fkey', onDelete: 'CASCADE' })
  listener: string;

  @PrimaryColumn({ name: 'audit_id', type: 'bigint' })
  auditId: string;

  @CreateDateColumn({ name: 'delivered_at', type: 'timestamptz' })
  deliveredAt: Date;
}
