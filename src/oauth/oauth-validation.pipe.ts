import { ValidationPipe } from '@nestjs/common';
import { OAuthException } from './oauth.exception';

/** Validates an OAuth form DTO; a violation is an RFC 6749 invalid_request naming the parameter. */
export function oauthValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    validateCustomDecorators: true,
    forbidUnknownValues: false,
    stopAtFirstError: true,
    exceptionFactory: (errors) => {
      const first = errors[0];
      const message = first ? Object.values(first.constraints ?? {})[0] ?? `${first.property} is invalid` : 'The request is invalid.';
      return OAuthException.invalidRequest(message);
    },
  });
}
