"""The rules of ringbridge, free of AWS and HTTP."""
