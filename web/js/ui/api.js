/**
 * Same-origin calls to /api/v1 with the session's CSRF token; errors carry the API's code,
 * message and field so pages can show exactly what was wrong.
 */

export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   * @param {{field?: string|null, status?: string}} details
   */
  constructor(status, code, message, details = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.field = details.field ?? null;
    this.secretStatus = details.status ?? null;
  }
}

export function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.getAttribute("content") ?? "" : "";
}

/**
 * @param {string} method
 * @param {string} url
 * @param {object|Uint8Array} [body] JSON, or raw bytes sent as application/octet-stream
 * @returns {Promise<any>} the parsed JSON answer, or null for 204
 */
export async function apiRequest(method, url, body) {
  /** @type {Record<string, string>} */
  const headers = { "Accept": "application/json", "X-CSRF-Token": csrfToken() };
  let payload;
  if (body instanceof Uint8Array) {
    headers["Content-Type"] = "application/octet-stream";
    payload = body;
  } else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, {
      method, headers, body: payload, credentials: "same-origin", cache: "no-store",
    });
  } catch (networkError) {
    throw new ApiError(0, "network_error", "Cipherslip could not be reached. Check your connection and try again.");
  }
  if (response.status === 204) return null;
  let parsed = null;
  try {
    parsed = await response.json();
  } catch {
    parsed = null;
  }
  if (!response.ok) {
    const error = (parsed && parsed.error) || {};
    throw new ApiError(response.status, error.code ?? "http_error",
      error.message ?? `The request failed (HTTP ${response.status}).`, error);
  }
  return parsed;
}
