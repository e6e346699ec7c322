import { TokenParamDto } from '../http/token-param.dto';

/** The body of an introspection request (RFC 7662 §2.1): `token`, `token_type_hint`, client credentials. */
export class IntrospectTokenDto extends TokenParamDto {}
