"""AWS state as typed models: what the aws adapters observe and the planners compare.

Kept apart from both so that planners (pure) and adapters (boto3) share types without knowing
each other.
"""
