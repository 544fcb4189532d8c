"""Versioned settings: the creditor's details and every policy, edited by administrators, never lost.

Each change appends a version; the value in force at any moment can be asked for, so a plan confirmed in
March keeps March's terms. Environment variables (portal.config) hold only secrets and infrastructure.
"""
