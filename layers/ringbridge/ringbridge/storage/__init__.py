"""AWS implementations of the domain's ports (DynamoDB, SQS, SSM)."""
