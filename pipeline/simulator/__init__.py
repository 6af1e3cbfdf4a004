"""Contact-centre simulator: CloudEvents (contract v1) from a discrete-event model.

    from pipeline.simulator import SimConfig, simulate
    for envelope in simulate(SimConfig(seed=7, duration_s=8 * 3600)):
        ...

Events come out in global event-time order (see model.py). Pure: no I/O.
"""
from pipeline.simulator.config import AgentGroup, Behaviour, QueueConfig, SimConfig
from pipeline.simulator.model import Simulator, format_time, simulate

__all__ = ["AgentGroup", "Behaviour", "QueueConfig", "SimConfig", "Simulator", "format_time", "simulate"]
