import { Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';
import { ClientEntity } from '../clients/client.entity';

/** What a person allowed a client: the set of scope tokens; a request for more asks again. */
@Entity({ name: 'consents' })
export class ConsentEntity {
  @PrimaryColumn({ type: 'text' })
  subject: string;

  @PrimaryColumn({ name: 'client_id', type: 'text' })
  @Index('consents_client_id_idx')
  @ForeignKey(() => ClientEntity, { name: 'consents_client_id_fkey', onDelete: 'CASCADE' })
  clientId: string;

  @Column({ type: 'text', array: true })
  scope: string[];

  @CreateDateColumn({ name: 'granted_at', type: 'timestamptz' })
  grantedAt: Date;
}
