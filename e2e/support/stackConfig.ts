/**
 * Where the e2e stack listens. Fixed ports (not 3000/4000, so a developer's `npm run dev` keeps
 * running) because the workers read `baseURL` from the config, which is evaluated before any
 * setup could hand them a random port. Override with E2E_API_PORT / E2E_WEB_PORT (CI's stage d
 * picks two free ones).
 */
export const E2E_API_PORT = Number(process.env.E2E_API_PORT || 4310);
export const E2E_WEB_PORT = Number(process.env.E2E_WEB_PORT || 3310);
export const E2E_API_URL = `http://127.0.0.1:${E2E_API_PORT}`;
export const E2E_WEB_URL = `http://127.0.0.1:${E2E_WEB_PORT}`;
