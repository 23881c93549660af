"""decide: records × recipients × rules → Decision (engine.py), rule conditions (conditions.py)."""
