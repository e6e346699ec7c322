import { Check, Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { AuthorizationRequestEntity } from '../authorization/authorization-request.entity';
import { ClientEntity } from '../clients/client.entity';
import { GrantEntity } from '../grants/grant.entity';

/** Where a device code stands: waiting for the person, answered by them, or redeemed for tokens. */
export type DeviceCodeStatus = 'pending' | 'approved' | 'denied' | 'issued';

/**
 * A device authorization (RFC 8628 §3.2): the device code as its SHA-256 only, the user code as shown
 * (normalised, without the dash), and what the person decided. Single use: redeemed once, then `issued`.
 */
@Entity({ name: 'device_codes' })
@Unique('device_codes_device_code_hash_key', ['deviceCodeHash'])
@Unique('device_codes_user_code_key', ['userCode'])
@Check('device_codes_status_check', `status IN ('pending', 'approved', 'denied', 'issued')`)
export class DeviceCodeEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'device_code_hash', type: 'bytea', select: false })
  deviceCodeHash: Buffer;

  @Column({ name: 'user_code', type: 'text' })
  userCode: string;

  @Index('device_codes_client_id_idx')
  @ForeignKey(() => ClientEntity, { name: 'device_codes_client_id_fkey', onDelete: 'CASCADE' })
  @Column({ name: 'client_id', type: 'text' })
  clientId: string;

  /** The requested scope; once approved, the scope the person granted. */
  @Column({ type: 'text', default: '' })
  scope: string;

  @Column({ type: 'text', default: 'pending' })
  status: DeviceCodeStatus;

  /** The person who approved or denied it. */
  @Column({ type: 'text', nullable: true })
  subject: string | null;

  /** The grant its redemption created: revoked if the code comes back. */
  @Index('device_codes_grant_id_idx')
  @ForeignKey(() => GrantEntity, { name: 'device_codes_grant_id_fkey', onDelete: 'SET NULL' })
  @Column({ name: 'grant_id', type: 'uuid', nullable: true })
  grantId: string | null;

  /** The pending authorization request made when the user code was entered (the latest one). */
  @Index('device_codes_request_id_idx')
  @ForeignKey(() => AuthorizationRequestEntity, { name: 'device_codes_request_id_fkey', onDelete: 'SET NULL' })
  @Column({ name: 'request_id', type: 'uuid', nullable: true })
  requestId: string | null;

  /** RFC 8628 §3.5: the polling interval, grown by 5 s on each slow_down. */
  @Column({ name: 'interval_seconds', type: 'integer' })
  intervalSeconds: number;

  @Column({ name: 'last_polled_at', type: 'timestamptz', nullable: true })
  lastPolledAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Index('device_codes_expires_at_idx')
  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;
}
