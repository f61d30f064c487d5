// The GraphQL client of the dashboard: POST /graphql like any third-party frontend. The API key (when
// the server needs one) lives only in sessionStorage: it is gone when the tab closes.

const KEY = "crm-graph-api-key";

export class ApiError extends Error {
  constructor(message, code, errors) {
    super(message);
    this.code = code || "ERROR";
    this.errors = errors || [];
  }
}

export function getKey() {
  return sessionStorage.getItem(KEY) || "";
}

export function setKey(key) {
  if (key) sessionStorage.setItem(KEY, key.trim());
  else sessionStorage.removeItem(KEY);
}

/** Run one GraphQL document; resolves with {data, errors} (partial answers keep their data).
 * Rejects with ApiError: UNAUTHENTICATED (missing, invalid or revoked key), HTTP errors, network. */
export async function gql(query, variables = {}, { signal } = {}) {
  const headers = { "Content-Type": "application/json", Accept: "application/json" };
  const key = getKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  let response;
  try {
    response = await fetch("/graphql", { method: "POST", headers, body: JSON.stringify({ query, variables }), signal });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError("The server cannot be reached; check that crm-graph is running.", "NETWORK");
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`The server answered HTTP ${response.status} without a GraphQL answer.`, "HTTP");
  }
  const errors = body.errors || [];
  const auth = errors.find((e) => e.extensions && e.extensions.code === "UNAUTHENTICATED");
  if (auth) throw new ApiError(auth.message, "UNAUTHENTICATED", errors);
  if (!body.data) {
    const first = errors[0] || { message: `HTTP ${response.status}` };
    throw new ApiError(first.message, (first.extensions && first.extensions.code) || "ERROR", errors);
  }
  return { data: body.data, errors };
}
