"""Advanced hunting: a KQL subset parsed with lark and compiled to SQL."""
