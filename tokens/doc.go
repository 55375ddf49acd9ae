// Package tokens mints and verifies Livefyre-compatible tokens: the
// userAuthToken (UAT) that a site hands to Livefyre.js, and the system token
// ("lftoken", "actor token") that the server-side protocol (register, ping,
// pull) carries.
//
// Both are compact JWS tokens signed with HS256 and the network key, the key
// string's own bytes (never base64-decoded). The payload has Livefyre's own
// claims, not the registered JWT ones:
//
//	{"domain":"labs.fyre.co","user_id":"bob","display_name":"Bob","expires":1400003600,"iat":1400000000}
//
// where expires is an absolute UNIX time in seconds. A system token is the
// token of user "system" with display name "system", valid 24 hours.
//
// Minting is exact: the header is {"alg":"HS256","typ":"JWT"}, expires is an
// integer, and user ids and display names that Livefyre's libraries (or its
// documentation) refuse are refused.
//
// Verifying is lenient wherever Livefyre's own libraries differ and strict
// wherever security is at stake:
//
//   - only HS256 is accepted ("none", RS*, ES*, PS*, EdDSA, HS384 and HS512
//     are refused with ErrUnsupportedAlgorithm, and so is a "crit" header);
//   - the signature is checked over the received segments, never over a
//     re-serialisation, and any "typ" (or none) is accepted;
//   - expires may be an integer or a float (the Node library writes
//     milliseconds as a fraction); "iat" is ignored; registered "exp" and
//     "nbf" claims are honoured when present, as the libraries' JWT
//     implementations do;
//   - domain must equal the codec's network;
//   - the clock is injected and a small leeway absorbs clock skew;
//   - previous keys still verify during a key rotation, and tokens signed by
//     Livefyre's Java library (which cuts keys to 32 bytes) can be accepted.
//
// Every error wraps one of the sentinel errors below so that callers can map
// it with errors.Is; an expiry is also an *ExpiredError carrying the time.
// Error texts never contain a token or a key.
package tokens
