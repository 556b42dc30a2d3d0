"""The pages that bring several domains together: everyone's home, the cases list, a case and
its audit trail. The top of the server: nothing imports it but the route table."""
