"""Behaviour cloning of the scripted expert: the smallest learned method in the method layout.

config.py (`BCConfig`), model.py (`MLP`), policy.py (`BCPolicy`: normalisers, `act`,
`compute_loss`, `sample`), train.py (collect expert pairs in ClimbRoute-v0, train, save with
`policies.save_pretrained`). Importing this package registers the method "bc" for
`policies.load_pretrained`; the policy name "bc" is in `policies.registry`.
"""

from policies.bc.config import BCConfig
from policies.bc.policy import BCPolicy, bc_policy
from policies.pretrained import register_method

register_method("bc", BCConfig, BCPolicy)

__all__ = ["BCConfig", "BCPolicy", "bc_policy"]
