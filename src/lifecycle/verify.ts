import { decodeJwt } from 'jose';
import { ConnectorError } from '../contracts/errors.ts';
import { ROLE_MISSING } from './reasons.ts';

export const ACTIVITY_FEED_READ = 'ActivityFeed.Read';

/**
 * The first verification step after consent and after every failure: a token can be acquired and
 * its `roles` claim holds ActivityFeed.Read. (Subscription and first content are the poller's own
 * first steps, reported as conditions.) A token without the role means consent was granted for an
 * app registration that lacks the permission, which the API would only show later as AF10001.
 */
export async function verifyAccess(getToken: () => Promise<string>): Promise<void> {
  const token = await getToken();
  let roles: unknown;
  try {
    roles = decodeJwt(token)['roles'];
  } catch (error) {
    throw new ConnectorError('AUTH_FAILED', 'The access token is not a readable JWT', { stage: 'auth', retriable: true, cause: error });
  }
  if (!Array.isArray(roles) || !roles.includes(ACTIVITY_FEED_READ)) {
    throw new ConnectorError(ROLE_MISSING, `The access token has no ${ACTIVITY_FEED_READ} role: add the permission and grant admin consent again`, { stage: 'auth', retriable: false });
  }
}
