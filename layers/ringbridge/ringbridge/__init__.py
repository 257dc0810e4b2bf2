"""ringbridge: the shared package of every Lambda function (shipped as a layer).

Layers, each importing only the ones below it:

- ``ringbridge.domain``: phone numbers, employees, calls, routing, sync rules, the ports.
  Pure Python (pydantic, phonenumbers): no AWS, no HTTP.
- ``ringbridge.usecases``: what ringbridge does, one module per use case, on the ports.
- ``ringbridge.ringostat``: Ringostat's webhook vocabulary and its API client.
- ``ringbridge.storage`` and ``ringbridge.crm``: DynamoDB/SQS and KeyCRM/NetHunt behind the ports.
- ``ringbridge.web``: what every HTTP handler shares (auth, payloads, answers, views).
- ``ringbridge.wiring``: the composition root, from the one configuration (``ringbridge.config``).
"""
