"""State orchestration (orchestration spec §2-§3): policies are ordered lists of small rules over a
``Transition`` (run, current state, proposed state) that accept, reject, wait or abort; the
global bookkeeping then updates the run. Pure domain code: rules never touch a store; the service
(``domain/services/run_orchestration.py``) reads what they need, runs the policy and commits."""
