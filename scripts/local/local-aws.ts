// The AWS account the local runtime pretends to be: one region, one account id, one stack
// name for the template's pseudo parameters and ARNs, and dummy credentials that keep the
// SDK (in the functions and in the runtime itself) from looking for real ones.
export const localRegion = "us-east-1";
export const localAccountId = "123456789012";
export const localStackName = "local";

/** As environment variables, the way each function's instances see them. */
export const localAwsCredentials = {
  AWS_ACCESS_KEY_ID: "local",
  AWS_SECRET_ACCESS_KEY: "local",
  AWS_SESSION_TOKEN: "local",
};
