import { ClientEntity } from '../clients/client.entity';
import { AccessTokenEntity } from '../grants/access-token.entity';
import { GrantEntity } from '../grants/grant.entity';
import { RefreshTokenEntity } from '../grants/refresh-token.entity';
import { RevocationAuditEntity } from '../grants/revocation-audit.entity';
import { InitialSchema1763790000000 } from '../../migrations/1763790000000-initial-schema';
import { RevocationFunctions1763790000001 } from '../../migrations/1763790000001-revocation-functions';
import { TokenLifecycle1795322263980 } from '../../migrations/1795322263980-token-lifecycle';
import { HotRevocation1795426765522 } from '../../migrations/1795426765522-hot-revocation';
import { RevocationOutcome1796391973873 } from '../../migrations/1796391973873-revocation-outcome';
import { Authorization1796392835896 } from '../../migrations/1796392835896-authorization';
import { Invalidation1796394205510 } from '../../migrations/1796394205510-invalidation';
import { RevocationOutbox1796394606534 } from '../../migrations/1796394606534-revocation-outbox';
import { RevocationEventDeliveryEntity, RevocationEventListenerEntity } from '../core/revocation-event-listener.entity';
import { RegisteredClientCleanup1796398999277 } from '../../migrations/1796398999277-registered-client-cleanup';
import { AuthorizationCodeEntity } from '../authorization/authorization-code.entity';
import { AuthorizationRequestEntity } from '../authorization/authorization-request.entity';
import { BrowserSessionEntity } from '../login/browser-session.entity';
import { ConsentEntity } from '../login/consent.entity';
import { UserEntity } from '../login/user.entity';
import { AuthFailureWindows1796395156226 } from '../../migrations/1796395156226-auth-failure-windows';
import { DeviceAuthorization1796402655691 } from '../../migrations/1796402655691-device-authorization';
import { DeviceCodeEntity } from '../device/device-code.entity';
import { Account1796402774360 } from '../../migrations/1796402774360-account';
import { OneRevocationNotification1796413244919 } from '../../migrations/1796413244919-one-revocation-notification';
import { AnnounceAfterCommit1796422977986 } from '../../migrations/1796422977986-announce-after-commit';
import { GroupedRevocation1796440000000 } from '../../migrations/1796440000000-grouped-revocation';

/** Every entity of the module set: add these to the host's TypeORM data source. */
export const OAUTH_ENTITIES = [ClientEntity, GrantEntity, AccessTokenEntity, RefreshTokenEntity, RevocationAuditEntity, AuthorizationRequestEntity, AuthorizationCodeEntity, UserEntity, BrowserSessionEntity, ConsentEntity, RevocationEventListenerEntity, RevocationEventDeliveryEntity, DeviceCodeEntity];

/** The schema's migrations, in order: add these to the host's TypeORM data source and run them. */
export const OAUTH_MIGRATIONS = [InitialSchema1763790000000, RevocationFunctions1763790000001, TokenLifecycle1795322263980, HotRevocation1795426765522, RevocationOutcome1796391973873, Authorization1796392835896, Invalidation1796394205510, RevocationOutbox1796394606534, AuthFailureWindows1796395156226, RegisteredClientCleanup1796398999277, DeviceAuthorization1796402655691, Account1796402774360, OneRevocationNotification1796413244919, AnnounceAfterCommit1796422977986, GroupedRevocation1796440000000];
