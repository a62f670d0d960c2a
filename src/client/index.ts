// `evsip/client`, kept for code written against it: the SDK is its own package, evsip-client
// (packages/client), which installs without the router's dependencies.
export * from "evsip-client";
