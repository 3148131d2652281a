#!/bin/sh
# As in AWS's base images: under the emulator unless a Runtime API is given. The SAM CLI
# replaces this entrypoint with its own emulator (/var/rapid/aws-lambda-rie) anyway.
if [ -z "${AWS_LAMBDA_RUNTIME_API}" ]; then
  exec /var/rapid/aws-lambda-rie /var/runtime/bootstrap "$@"
fi
exec /var/runtime/bootstrap "$@"
