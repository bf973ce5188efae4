/** Pieces every part of the status tracker's OpenAPI document is written with (openapi.ts merges the parts). */
export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
export const json = (schema: object, description: string) => ({ description, content: { 'application/json': { schema } } });
export const error = (description: string) => json(ref('Error'), description);
export const nullable = (type: string, extra: object = {}) => ({ type: [type, 'null'], ...extra });
export const UNAUTHORIZED = error('No token, or an expired or wrongly signed one.');
