"""The textbook's five IMDB models in plain PyTorch (nn.RNN / nn.LSTM / nn.GRU), same layer sizes.

Embedding(8000, 32) -> channel dropout 0.4 (Keras' SpatialDropout1D) -> recurrent layer(s)
of 32 units, last state -> Dropout -> Linear(1) -> sigmoid, trained with RMSprop at Keras'
defaults (lr 1e-3, rho 0.9, eps 1e-7) on binary cross-entropy, batches of 128, shuffled.
Parameter counts differ from Keras by the recurrent biases only (PyTorch keeps two bias
vectors per gate, and its GRU is the ``reset_after=True`` variant).
"""

from __future__ import annotations

import torch
from torch import nn

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU, "bilstm": nn.LSTM, "stacked-lstm": nn.LSTM}


class TextbookRNN(nn.Module):
    def __init__(self, name: str, vocab_size: int = 8000, embedding_dim: int = 32, units: int = 32):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.spatial_dropout = nn.Dropout1d(0.4)
        self.rnn = CELLS[name](embedding_dim, units, batch_first=True, num_layers=2 if name == "stacked-lstm" else 1,
                               bidirectional=name == "bilstm")
        self.dropout = nn.Dropout(0.5 if name == "stacked-lstm" else 0.4)
        self.output = nn.Linear(units * (2 if name == "bilstm" else 1), 1)
        self.bidirectional = name == "bilstm"

    def forward(self, ids):
        x = self.embedding(ids)
        x = self.spatial_dropout(x.transpose(1, 2)).transpose(1, 2)  # drop whole embedding channels
        _, state = self.rnn(x)
        h = state[0] if isinstance(state, tuple) else state  # (layers * directions, batch, units)
        last = torch.cat([h[-2], h[-1]], dim=1) if self.bidirectional else h[-1]
        return self.output(self.dropout(last)).squeeze(1)


def build(name: str) -> tuple[nn.Module, torch.optim.Optimizer]:
    model = TextbookRNN(name)
    optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
    return model, optimizer


def train_epoch(model, optimizer, x: torch.Tensor, y: torch.Tensor, batch_size: int = 128, generator=None) -> float:
    """One shuffled pass over (x, y); returns the mean loss."""
    model.train()
    loss_fn = nn.BCEWithLogitsLoss()
    order = torch.randperm(len(x), generator=generator)
    total = 0.0
    for start in range(0, len(x), batch_size):
        rows = order[start:start + batch_size]
        optimizer.zero_grad()
        loss = loss_fn(model(x[rows]), y[rows])
        loss.backward()
        optimizer.step()
        total += float(loss) * len(rows)
    return total / len(x)


@torch.no_grad()
def predict(model, x: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
    model.eval()
    return torch.cat([torch.sigmoid(model(x[i:i + batch_size])) for i in range(0, len(x), batch_size)])
