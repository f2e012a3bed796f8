/**
 * The version of this frontend package.
 *
 * Kept equal to `version` in the top-level package.json (a unit test checks it);
 * compared with the server's `GET mlops/api/version` at start-up.
 */
export const FRONTEND_VERSION = '0.1.0';

/**
 * The REST API generation this frontend speaks.
 */
export const FRONTEND_API = 1;
