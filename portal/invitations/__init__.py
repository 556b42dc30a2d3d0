"""Invitations: single-use codes that bring people in (staff, and participants of a case), and
joining with one."""
