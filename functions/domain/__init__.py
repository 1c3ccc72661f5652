"""Pure rules of Jubilee: no boto3, no I/O, no environment variables."""
