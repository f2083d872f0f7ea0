// Hawk for the rest of the package: the signer (./hawkSigner, with its hashing) and the credential check
// (./hawkCredentials). Room sessions load ./hawkSigner by import() so that Basic pages never ship it.
export { HawkSigner, type HawkRequest } from './hawkSigner';
export { checkHawkCredentials, type HawkCredentials } from './hawkCredentials';
