/**
 * Fake Google Sheets API v4 (values) and Google's OAuth 2.0 token endpoint for service accounts.
 *
 * - `POST /token` takes `grant_type=refresh_token` with the fake OAuth client's refresh token
 *   (test/fakes/credentials.ts), or `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` and an RS256
 *   assertion, verified against the public key trusted for its `iss` (a test generates the key
 *   pair and trusts the public half: `FakeProviders.trustGoogleServiceAccount`), with Google's
 *   checks (audience, a short-lived iat/exp, a scope) and OAuth error answers
 *   (`{error, error_description}`); it issues access tokens that expire.
 * - `GET/PUT /v4/spreadsheets/{id}/values/{range}`, `POST …/values/{range}:append` and
 *   `POST /v4/spreadsheets/{id}/values:batchUpdate` read and write a grid per sheet in A1
 *   notation, answer as Google does (formatted strings by default, trailing empties trimmed,
 *   UpdateValuesResponse per range), and fail with Google's `{error:{code,message,status}}`:
 *   401 UNAUTHENTICATED without a live token, 403 PERMISSION_DENIED without the Sheets scope,
 *   400 INVALID_ARGUMENT for a range that does not parse or names no sheet (a batchUpdate with one
 *   bad range writes nothing), 404 NOT_FOUND for spreadsheet ids starting with `missing`.
 * Every other spreadsheet id exists, with the sheets `Sheet1` and `Sheet2`.
 */
import { createPublicKey, verify } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { bearerToken, isRecord } from '../http-io';
import { fakeCredentials } from '../credentials';
import { randomString } from '../random-ids';
import type { ProviderState, SheetCell, Spreadsheet } from '../state';
import type { FakeResponse, ParsedRequest } from '../types';
import { json, type ProviderModule } from './provider-module';

export const GOOGLE_TOKEN_AUDIENCE = 'https://oauth2.googleapis.com/token';
/** Every access token the fake token endpoint issues starts so (Calendar checks only these for expiry). */
export const ISSUED_TOKEN_PREFIX = 'ya29.fake-issued-';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const SHEETS_SCOPES = ['https://www.googleapis.com/auth/spreadsheets', 'https://www.googleapis.com/auth/drive', 'https://www.googleapis.com/auth/drive.file'];
const READ_SCOPES = [...SHEETS_SCOPES, 'https://www.googleapis.com/auth/spreadsheets.readonly', 'https://www.googleapis.com/auth/drive.readonly'];
const CALENDAR_SCOPES = ['https://www.googleapis.com/auth/calendar'];
export const BUSINESS_SCOPE = 'https://www.googleapis.com/auth/business.manage';
const SHEET_NAMES = ['Sheet1', 'Sheet2'];

const VALUES = /^\/v4\/spreadsheets\/(?<spreadsheetId>[^/]+)\/values\/(?<range>[^/]+)$/;
const APPEND = /^\/v4\/spreadsheets\/(?<spreadsheetId>[^/]+)\/values\/(?<range>[^/]+):append$/;
const BATCH_UPDATE = /^\/v4\/spreadsheets\/(?<spreadsheetId>[^/:]+)\/values:batchUpdate$/;

const CANONICAL_STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

function googleError(code: number, message: string): FakeResponse {
  return json(code, { error: { code, message, status: CANONICAL_STATUS[code] ?? (code >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION') } });
}

function oauthError(status: number, error: string, description: string): FakeResponse {
  return json(status, { error, error_description: description });
}

// ---- A1 notation ------------------------------------------------------------------------------

export interface GridRange {
  sheet: string;
  /** 0-based, inclusive; undefined = unbounded on that side. */
  startRow: number;
  startCol: number;
  endRow?: number;
  endCol?: number;
}

export function columnIndex(letters: string): number {
  let index = 0;
  for (const letter of letters.toUpperCase()) index = index * 26 + (letter.charCodeAt(0) - 64);
  return index - 1;
}

export function columnLetters(index: number): string {
  let letters = '';
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26)) letters = String.fromCharCode(65 + ((n - 1) % 26)) + letters;
  return letters;
}

const CELL = /^(?<col>[A-Za-z]{1,3})?(?<row>[1-9]\d{0,6})?$/;

/** `Sheet1!A1:C3`, `'My sheet'!A:C`, `Sheet1!2:5`, `A1`, `Sheet1`; null when it does not parse. */
export function parseA1(text: string, sheetNames: readonly string[]): GridRange | null {
  let sheet: string | undefined;
  let cells = text;
  const bang = text.lastIndexOf('!');
  if (bang >= 0) {
    const name = text.slice(0, bang);
    sheet = name.startsWith("'") && name.endsWith("'") && name.length >= 2 ? name.slice(1, -1).replace(/''/g, "'") : name;
    cells = text.slice(bang + 1);
  } else if (sheetNames.includes(text)) {
    return { sheet: text, startRow: 0, startCol: 0 };
  }
  sheet ??= sheetNames[0];
  if (sheet === undefined || !sheetNames.includes(sheet) || cells === '') return null;
  const [from, to, extra] = cells.split(':');
  if (extra !== undefined || from === undefined) return null;
  const start = CELL.exec(from)?.groups;
  const end = to === undefined ? start : CELL.exec(to)?.groups;
  if (!start || !end || (!start.col && !start.row) || (!end.col && !end.row)) return null;
  const range: GridRange = {
    sheet,
    startRow: start.row ? Number(start.row) - 1 : 0,
    startCol: start.col ? columnIndex(start.col) : 0,
  };
  if (end.row) range.endRow = Number(end.row) - 1;
  if (end.col) range.endCol = columnIndex(end.col);
  if ((range.endRow !== undefined && range.endRow < range.startRow) || (range.endCol !== undefined && range.endCol < range.startCol)) return null;
  return range;
}

function quoteSheet(name: string): string {
  return /^[A-Za-z0-9_]+$/.test(name) ? name : `'${name.replace(/'/g, "''")}'`;
}

function a1(sheet: string, startRow: number, startCol: number, endRow: number, endCol: number): string {
  const from = `${columnLetters(startCol)}${startRow + 1}`;
  const to = `${columnLetters(endCol)}${endRow + 1}`;
  return `${quoteSheet(sheet)}!${from === to ? from : `${from}:${to}`}`;
}

// ---- the grid ---------------------------------------------------------------------------------

function spreadsheetOf(state: ProviderState, id: string): Spreadsheet {
  let spreadsheet = state.spreadsheets.get(id);
  if (!spreadsheet) {
    spreadsheet = new Map(SHEET_NAMES.map((name) => [name, []]));
    state.spreadsheets.set(id, spreadsheet);
  }
  return spreadsheet;
}

type Rows = SheetCell[][];

function isCell(value: unknown): value is SheetCell {
  return value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

/** The values of a ValueRange body as rows, transposed from COLUMNS; null when not a grid of cells. */
function rowsOf(values: unknown, majorDimension: unknown): Rows | null {
  if (!Array.isArray(values) || !values.every((row) => Array.isArray(row) && row.every(isCell))) return null;
  const grid = values as Rows;
  if (majorDimension !== 'COLUMNS') return grid;
  const transposed: Rows = [];
  grid.forEach((column, c) => column.forEach((value, r) => ((transposed[r] ??= [])[c] = value)));
  return transposed.map((row) => Array.from(row, (value) => value ?? null));
}

interface UpdateValuesResponse {
  spreadsheetId: string;
  updatedRange: string;
  updatedRows: number;
  updatedColumns: number;
  updatedCells: number;
}

/** Checks a write against its range's bounds; the error message is Google's. */
function writeProblem(range: GridRange, rows: Rows, text: string): string | null {
  const width = Math.max(0, ...rows.map((row) => row.length));
  if (range.endRow !== undefined && range.startRow + rows.length - 1 > range.endRow) {
    return `Requested writing within range [${text}], but tried writing to row [${range.startRow + rows.length}]`;
  }
  if (range.endCol !== undefined && width > 0 && range.startCol + width - 1 > range.endCol) {
    return `Requested writing within range [${text}], but tried writing to column [${columnLetters(range.startCol + width - 1)}]`;
  }
  return null;
}

function write(state: ProviderState, spreadsheetId: string, range: GridRange, rows: Rows, userEntered: boolean): UpdateValuesResponse {
  const grid = spreadsheetOf(state, spreadsheetId).get(range.sheet)!;
  let cells = 0;
  let width = 0;
  rows.forEach((row, r) => {
    const target = (grid[range.startRow + r] ??= []);
    row.forEach((value, c) => {
      // USER_ENTERED parses numbers the way the Sheets UI would; RAW stores the text as sent.
      target[range.startCol + c] = userEntered && typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
      cells++;
    });
    width = Math.max(width, row.length);
  });
  state.sheetCellsWritten += cells;
  const height = rows.length;
  return {
    spreadsheetId,
    updatedRange: a1(range.sheet, range.startRow, range.startCol, range.startRow + Math.max(height, 1) - 1, range.startCol + Math.max(width, 1) - 1),
    updatedRows: height,
    updatedColumns: width,
    updatedCells: cells,
  };
}

function formatted(value: SheetCell, render: string | undefined): SheetCell {
  if (render === 'UNFORMATTED_VALUE' || render === 'FORMULA') return value;
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  return value === null ? '' : String(value);
}

function read(state: ProviderState, spreadsheetId: string, range: GridRange, render: string | undefined): Rows {
  const grid = spreadsheetOf(state, spreadsheetId).get(range.sheet)!;
  const lastRow = Math.min(range.endRow ?? grid.length - 1, grid.length - 1);
  const rows: Rows = [];
  for (let r = range.startRow; r <= lastRow; r++) {
    const source = grid[r] ?? [];
    const lastCol = Math.min(range.endCol ?? source.length - 1, source.length - 1);
    const row: SheetCell[] = [];
    for (let c = range.startCol; c <= lastCol; c++) row.push(formatted(source[c] ?? null, render));
    // Google omits trailing empty cells and rows.
    while (row.length > 0 && (row[row.length - 1] === '' || row[row.length - 1] === null)) row.pop();
    rows.push(row);
  }
  while (rows.length > 0 && rows[rows.length - 1]!.length === 0) rows.pop();
  return rows;
}

// ---- auth -------------------------------------------------------------------------------------

function decodeSegment(segment: string | undefined): Record<string, unknown> | null {
  if (segment === undefined) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return isRecord(value) ? value : null;
  } catch {
    return null;
  }
}

/** A new access token, living `googleTokenLifetimeSeconds` (Google's answer shape). */
function grantToken(state: ProviderState, scopes: string[], issuer: string): FakeResponse {
  const token = `${ISSUED_TOKEN_PREFIX}${randomString(40)}`;
  const lifetime = state.googleTokenLifetimeSeconds;
  state.googleAccessTokens.set(token, { expiresAt: Date.now() + lifetime * 1000, scopes, issuer });
  return json(200, { access_token: token, expires_in: lifetime, token_type: 'Bearer', scope: scopes.join(' ') });
}

/** The refresh-token grant: the fake OAuth client and its refresh token only (Google's OAuth errors otherwise). */
function refreshGrant(form: Record<string, unknown>, state: ProviderState): FakeResponse {
  if (form.client_id !== fakeCredentials.GOOGLE_CLIENT_ID || form.client_secret !== fakeCredentials.GOOGLE_CLIENT_SECRET) {
    return oauthError(401, 'invalid_client', 'The OAuth client was not found.');
  }
  const known = [fakeCredentials.GOOGLE_REFRESH_TOKEN, fakeCredentials.GOOGLE_MY_BUSINESS_REFRESH_TOKEN];
  if (typeof form.refresh_token !== 'string' || !known.includes(form.refresh_token)) return oauthError(400, 'invalid_grant', 'Token has been expired or revoked.');
  state.googleTokenRefreshes += 1;
  return grantToken(state, [...CALENDAR_SCOPES, ...SHEETS_SCOPES, BUSINESS_SCOPE], String(form.client_id));
}

function issueToken(req: ParsedRequest, state: ProviderState): FakeResponse {
  const form = isRecord(req.body) ? req.body : {};
  if (form.grant_type === 'refresh_token') return refreshGrant(form, state);
  if (form.grant_type !== JWT_BEARER) return oauthError(400, 'unsupported_grant_type', `Invalid grant_type: ${typeof form.grant_type === 'string' ? form.grant_type : ''}`);
  const assertion = typeof form.assertion === 'string' ? form.assertion : '';
  const [headerPart, payloadPart, signaturePart, extra] = assertion.split('.');
  const header = decodeSegment(headerPart);
  const claims = decodeSegment(payloadPart);
  if (!header || !claims || signaturePart === undefined || extra !== undefined) return oauthError(400, 'invalid_grant', 'Invalid JWT: malformed assertion.');
  if (header.alg !== 'RS256') return oauthError(400, 'invalid_grant', 'Invalid JWT: the signing algorithm must be RS256.');
  const issuer = typeof claims.iss === 'string' ? claims.iss : '';
  const publicKey = state.googleServiceAccounts.get(issuer);
  if (!publicKey) return oauthError(400, 'invalid_grant', 'Invalid grant: account not found');
  const signed = verify('RSA-SHA256', Buffer.from(`${headerPart}.${payloadPart}`), createPublicKey(publicKey), Buffer.from(signaturePart, 'base64url'));
  if (!signed) return oauthError(400, 'invalid_grant', 'Invalid JWT Signature.');
  if (claims.aud !== GOOGLE_TOKEN_AUDIENCE) return oauthError(400, 'invalid_grant', 'Invalid JWT: audience must be the token endpoint.');
  const now = Math.floor(Date.now() / 1000);
  const iat = typeof claims.iat === 'number' ? claims.iat : NaN;
  const exp = typeof claims.exp === 'number' ? claims.exp : NaN;
  if (!(iat <= now + 300 && exp > now && exp - iat <= 3600)) {
    return oauthError(400, 'invalid_grant', 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.');
  }
  const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : [];
  if (scopes.length === 0) return oauthError(400, 'invalid_scope', 'Invalid oauth scope or ID token audience provided.');
  return grantToken(state, scopes, issuer);
}

/** 401/403 answered as Google does, or undefined when the bearer token may use the Sheets API (for writing unless `readOnly`). */
function rejectToken(req: ParsedRequest, state: ProviderState, readOnly: boolean): FakeResponse | undefined {
  const token = bearerToken(req);
  const issued = token === undefined ? undefined : state.googleAccessTokens.get(token);
  if (!issued || issued.expiresAt <= Date.now()) {
    return googleError(401, 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.');
  }
  const allowed = readOnly ? READ_SCOPES : SHEETS_SCOPES;
  if (!issued.scopes.some((scope) => allowed.includes(scope))) return googleError(403, 'Request had insufficient authentication scopes.');
  return undefined;
}

function missing(spreadsheetId: string): FakeResponse | undefined {
  return spreadsheetId.startsWith('missing') ? googleError(404, 'Requested entity was not found.') : undefined;
}

function unparseable(text: string): FakeResponse {
  return googleError(400, `Unable to parse range: ${text}`);
}

function valueInputOption(req: ParsedRequest, body: Record<string, unknown> | null): { userEntered: boolean } | FakeResponse {
  const option = body ? body.valueInputOption : req.query.valueInputOption;
  if (option === undefined || option === '') return googleError(400, "'valueInputOption' is required but not specified");
  if (option !== 'RAW' && option !== 'USER_ENTERED') return googleError(400, `Invalid value at 'value_input_option' (${typeof option === 'string' ? option : JSON.stringify(option)})`);
  return { userEntered: option === 'USER_ENTERED' };
}

/**
 * What a single-range write (PUT values, POST :append) checks first, in Google's order: token and
 * spreadsheet, valueInputOption, the range. An answer when one is refused.
 */
function singleRangeWrite(
  req: ParsedRequest,
  params: Record<string, string | undefined>,
  state: Parameters<ProviderModule['routes'][number]['handle']>[2],
): FakeResponse | { option: { userEntered: boolean }; text: string; range: GridRange; body: Record<string, unknown> } {
  const rejected = rejectToken(req, state, false) ?? missing(params.spreadsheetId!);
  if (rejected) return rejected;
  const option = valueInputOption(req, null);
  if ('status' in option) return option;
  const text = params.range!;
  const range = parseA1(text, SHEET_NAMES);
  if (!range) return unparseable(text);
  return { option, text, range, body: isRecord(req.body) ? req.body : {} };
}

export const googleSheets: ProviderModule = {
  id: 'google-sheets',
  routes: [
    {
      // Sheets' discovery document: the health probe.
      method: 'GET',
      path: /^\/\$discovery\/rest$/,
      operation: 'probe',
      handle() {
        return json(200, { kind: 'discovery#restDescription', name: 'sheets', version: 'v4' });
      },
    },
    { method: 'POST', path: /^\/token$/, operation: 'token', handle: (req, _params, state) => issueToken(req, state) },
    {
      method: 'GET',
      path: VALUES,
      operation: 'readRange',
      handle(req, params, state) {
        const rejected = rejectToken(req, state, true) ?? missing(params.spreadsheetId!);
        if (rejected) return rejected;
        const text = params.range!;
        const range = parseA1(text, SHEET_NAMES);
        if (!range) return unparseable(text);
        const rows = read(state, params.spreadsheetId!, range, req.query.valueRenderOption);
        const majorDimension = req.query.majorDimension === 'COLUMNS' ? 'COLUMNS' : 'ROWS';
        const values = majorDimension === 'COLUMNS' ? rowsOf(rows, 'COLUMNS')! : rows;
        const lastRow = range.endRow ?? range.startRow + Math.max(rows.length, 1) - 1;
        const lastCol = range.endCol ?? range.startCol + Math.max(1, ...rows.map((row) => row.length)) - 1;
        return json(200, { range: a1(range.sheet, range.startRow, range.startCol, lastRow, lastCol), majorDimension, ...(values.length > 0 ? { values } : {}) });
      },
    },
    {
      method: 'PUT',
      path: VALUES,
      operation: 'writeRange',
      handle(req, params, state) {
        const checked = singleRangeWrite(req, params, state);
        if ('status' in checked) return checked;
        const { option, text, range, body } = checked;
        if (typeof body.range === 'string' && body.range !== text) {
          return googleError(400, `Requested writing within range [${text}], but tried writing within [${body.range}]`);
        }
        const rows = rowsOf(body.values ?? [], body.majorDimension);
        if (!rows) return googleError(400, "Invalid value at 'data.values'");
        const problem = writeProblem(range, rows, text);
        if (problem) return googleError(400, problem);
        return json(200, write(state, params.spreadsheetId!, range, rows, option.userEntered));
      },
    },
    {
      method: 'POST',
      path: APPEND,
      operation: 'appendRows',
      handle(req, params, state) {
        const checked = singleRangeWrite(req, params, state);
        if ('status' in checked) return checked;
        const { option, range, body } = checked;
        const rows = rowsOf(body.values ?? [], body.majorDimension);
        if (!rows) return googleError(400, "Invalid value at 'data.values'");
        // The table is the data found at the range; the rows go after its last non-empty row.
        const grid = spreadsheetOf(state, params.spreadsheetId!).get(range.sheet)!;
        let last = -1;
        grid.forEach((row, r) => {
          const used = row.slice(range.startCol, range.endCol === undefined ? undefined : range.endCol + 1).some((v) => v !== null && v !== undefined && v !== '');
          if (used && r >= range.startRow) last = r;
        });
        const first = last < 0 ? range.startRow : last + 1;
        const updates = write(state, params.spreadsheetId!, { sheet: range.sheet, startRow: first, startCol: range.startCol }, rows, option.userEntered);
        const tableWidth = Math.max(1, ...grid.slice(range.startRow, last + 1).map((row) => row.length - range.startCol));
        return json(200, {
          spreadsheetId: params.spreadsheetId,
          ...(last >= 0 ? { tableRange: a1(range.sheet, range.startRow, range.startCol, last, range.startCol + tableWidth - 1) } : {}),
          updates,
        });
      },
    },
    {
      method: 'POST',
      path: BATCH_UPDATE,
      operation: 'batchUpdate',
      handle(req, params, state) {
        const rejected = rejectToken(req, state, false) ?? missing(params.spreadsheetId!);
        if (rejected) return rejected;
        const body = isRecord(req.body) ? req.body : null;
        if (!body) return googleError(400, 'Invalid JSON payload received.');
        const option = valueInputOption(req, body);
        if ('status' in option) return option;
        const data = Array.isArray(body.data) ? body.data : [];
        // Every range is checked before anything is written: Google applies the request whole or not at all.
        const writes: Array<{ range: GridRange; rows: Rows }> = [];
        for (const [index, entry] of data.entries()) {
          const text = isRecord(entry) && typeof entry.range === 'string' ? entry.range : '';
          const range = parseA1(text, SHEET_NAMES);
          if (!range) return googleError(400, `Invalid data[${index}]: Unable to parse range: ${text}`);
          const rows = rowsOf((entry as Record<string, unknown>).values ?? [], (entry as Record<string, unknown>).majorDimension);
          if (!rows) return googleError(400, `Invalid data[${index}]: Invalid values`);
          const problem = writeProblem(range, rows, text);
          if (problem) return googleError(400, `Invalid data[${index}]: ${problem}`);
          writes.push({ range, rows });
        }
        const responses = writes.map(({ range, rows }) => write(state, params.spreadsheetId!, range, rows, option.userEntered));
        const sum = (field: 'updatedRows' | 'updatedColumns' | 'updatedCells') => responses.reduce((total, r) => total + r[field], 0);
        return json(200, {
          spreadsheetId: params.spreadsheetId,
          totalUpdatedRows: sum('updatedRows'),
          totalUpdatedColumns: sum('updatedColumns'),
          totalUpdatedCells: sum('updatedCells'),
          totalUpdatedSheets: new Set(writes.map((w) => w.range.sheet)).size,
          responses,
        });
      },
    },
  ],
  faultBodies: {
    status: (status) => ({ error: { code: status, message: STATUS_CODES[status] ?? 'Error', status: CANONICAL_STATUS[status] ?? (status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION') } }),
    rateLimit: () => ({
      error: {
        code: 429,
        message: "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute per user' of service 'sheets.googleapis.com'.",
        status: 'RESOURCE_EXHAUSTED',
      },
    }),
    validation: () => ({ error: { code: 400, message: 'Invalid data[0]: Unable to parse range: Nope!A1', status: 'INVALID_ARGUMENT' } }),
  },
};
