"""Training: one gradient-boosting model on the pooled history of every location, split in time order.

``train_and_evaluate`` fits the challenger on the first 80% of rows by time and measures it, persistence
and (when given) the champion on the same last 20%; the measured model is the one exported (ONNX for
serving, joblib for later evaluation), never refit. ``artifacts`` writes the model files and the candidate
pointer to S3 and loads a champion's scikit-learn model. scikit-learn and skl2onnx are imported lazily:
only the train function ships them.
"""

from rps_core.training.metrics import evaluate, rounded
from rps_core.training.model import PARAMS
from rps_core.training.split import TEST_FRACTION, Table, build_table, time_split
from rps_core.training.train import TrainingResult, train_and_evaluate

__all__ = [
    "PARAMS",
    "TEST_FRACTION",
    "Table",
    "TrainingResult",
    "build_table",
    "evaluate",
    "rounded",
    "time_split",
    "train_and_evaluate",
]
