"""ringbridge: the shared package of every Lambda function (shipped as a layer).

- ``ringbridge.domain``: phone numbers, employees, routing, call and funnel rules.
  Pure Python (pydantic, phonenumbers): no AWS, no HTTP.
- ``ringbridge.storage``: DynamoDB/SQS implementations of the domain's ports.
- ``ringbridge.web``: what every HTTP handler shares (auth, body parsing, errors).
"""
