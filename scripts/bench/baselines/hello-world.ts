// Cold-start baseline: the smallest Lambda there is, built as the product is.
export const handler = async () => ({ statusCode: 200, body: "hello" });
