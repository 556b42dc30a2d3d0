"""The facilitator's home kept as rows (workspace/facilitator_home.py reads them): what it
keeps, and which homes each committed change concerns."""
