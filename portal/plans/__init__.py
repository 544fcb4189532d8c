"""Payment plans and promises to pay: proposed by the debtor, approved at once inside the policy, else by staff."""
