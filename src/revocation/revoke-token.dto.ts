import { TokenParamDto } from '../http/token-param.dto';

/** The body of a revocation request (RFC 7009 §2.1): `token`, `token_type_hint`, client credentials. */
export class RevokeTokenDto extends TokenParamDto {}
