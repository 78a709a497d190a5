"""The textbook's code, as the chapters write it: Sequential models, Keras' Tokenizer, a per-review loop.

Only what Keras 3 forces is changed, each marked ``Keras 3:`` below:

* ``keras.preprocessing.text.Tokenizer`` is gone from Keras 3; the same class ships in the
  ``keras-preprocessing`` package (``keras_preprocessing.text.Tokenizer``), used here.
* ``pad_sequences`` moved from ``keras.preprocessing.sequence`` to ``keras.utils``.
* ``Embedding(..., input_length=200)`` lost its ``input_length`` argument.

The IMDB chapter reads the reviews from the extracted ``aclImdb`` folders; here the same
loop reads them straight from the archive (no 100,000-file extraction on disk). The Amazon
activity's ``preprocess`` uses scikit-learn's stop-word list instead of NLTK's ``stopwords``
corpus (a separate download), as rnnlab does, so that both sides produce the same tokens.
The backend is whatever ``KERAS_BACKEND`` says (the textbook ran on TensorFlow).
"""

from __future__ import annotations

import re
import tarfile

from keras.layers import GRU, LSTM, Bidirectional, Dense, Dropout, Embedding, SimpleRNN, SpatialDropout1D
from keras.models import Sequential
from keras.utils import pad_sequences  # Keras 3: was keras.preprocessing.sequence.pad_sequences
from keras_preprocessing.text import Tokenizer  # Keras 3: was keras.preprocessing.text.Tokenizer
from nltk.stem import PorterStemmer
from nltk.tokenize import TreebankWordTokenizer
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

vocab_size = 8000
maxlen = 200
embedding_dim = 32


# -- the IMDB chapter's five models ------------------------------------------------------------

def rnn_model():
    model = Sequential()
    model.add(Embedding(vocab_size, embedding_dim))  # Keras 3: no input_length=maxlen
    model.add(SpatialDropout1D(0.4))
    model.add(SimpleRNN(32))
    model.add(Dropout(0.4))
    model.add(Dense(1, activation="sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer="rmsprop", metrics=["accuracy"])
    return model


def lstm_model():
    model = Sequential()
    model.add(Embedding(vocab_size, embedding_dim))
    model.add(SpatialDropout1D(0.4))
    model.add(LSTM(32))
    model.add(Dropout(0.4))
    model.add(Dense(1, activation="sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer="rmsprop", metrics=["accuracy"])
    return model


def gru_model():
    model = Sequential()
    model.add(Embedding(vocab_size, embedding_dim))
    model.add(SpatialDropout1D(0.4))
    model.add(GRU(32, reset_after=False))
    model.add(Dropout(0.4))
    model.add(Dense(1, activation="sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer="rmsprop", metrics=["accuracy"])
    return model


def bilstm_model():
    model = Sequential()
    model.add(Embedding(vocab_size, embedding_dim))
    model.add(SpatialDropout1D(0.4))
    model.add(Bidirectional(LSTM(32)))
    model.add(Dropout(0.4))
    model.add(Dense(1, activation="sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer="rmsprop", metrics=["accuracy"])
    return model


def stacked_lstm_model():
    model = Sequential()
    model.add(Embedding(vocab_size, embedding_dim))
    model.add(SpatialDropout1D(0.4))
    model.add(LSTM(32, return_sequences=True))
    model.add(LSTM(32))
    model.add(Dropout(0.5))
    model.add(Dense(1, activation="sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer="rmsprop", metrics=["accuracy"])
    return model


MODELS = {"rnn": rnn_model, "lstm": lstm_model, "gru": gru_model, "bilstm": bilstm_model,
          "stacked-lstm": stacked_lstm_model}
EPOCHS = {"rnn": 10, "lstm": 5, "gru": 4, "bilstm": 4, "stacked-lstm": 4}


# -- reading IMDB -------------------------------------------------------------------------------

def read_imdb(archive):
    """Train and test reviews with labels (neg = 0, pos = 1), file by file, as the chapter reads them."""
    pattern = re.compile(r"aclImdb/(train|test)/(pos|neg)/\d+_\d+\.txt$")
    data = {"train": ([], []), "test": ([], [])}
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            match = pattern.search(member.name)
            if match:
                text = tar.extractfile(member).read().decode("utf-8", errors="replace")
                data[match[1]][0].append(text)
                data[match[1]][1].append(1 if match[2] == "pos" else 0)
    return data["train"], data["test"]


def encode_imdb(train_texts, test_texts):
    """The chapter's encoding: a Tokenizer fitted on the training reviews, then padding."""
    tokenizer = Tokenizer(num_words=vocab_size, oov_token="<oov>")
    tokenizer.fit_on_texts(train_texts)
    x_train = pad_sequences(tokenizer.texts_to_sequences(train_texts), maxlen=maxlen)
    x_test = pad_sequences(tokenizer.texts_to_sequences(test_texts), maxlen=maxlen)
    return tokenizer, x_train, x_test


# -- the Amazon activity's preprocessing ----------------------------------------------------

tokenizer_words = TreebankWordTokenizer()
stemmer = PorterStemmer()
stop_words = set(ENGLISH_STOP_WORDS)


def is_punctuation(token):
    return not any(ch.isalnum() for ch in token)


def preprocess(text):
    """Lower-case, Treebank tokens, no stop words or punctuation, Porter stems."""
    text = re.sub(r"<br\s*/?>", " ", text, flags=re.IGNORECASE).lower()
    tokens = tokenizer_words.tokenize(text)
    tokens = [token for token in tokens if token not in stop_words and not is_punctuation(token)]
    return [stemmer.stem(token) for token in tokens]


def encode_preprocessed(texts, num_words, length):
    """The activity's pipeline: preprocess each review, fit a Tokenizer, sequences, padding."""
    token_lists = [preprocess(text) for text in texts]
    tokenizer = Tokenizer(num_words=num_words, oov_token="<oov>")
    tokenizer.fit_on_texts(token_lists)
    x = pad_sequences(tokenizer.texts_to_sequences(token_lists), maxlen=length)
    return tokenizer, token_lists, x


def predict_review(model, tokenizer, text, length):
    """The chapter's prediction of one new review: preprocess, sequence, pad, predict."""
    tokens = preprocess(text)
    x = pad_sequences(tokenizer.texts_to_sequences([tokens]), maxlen=length)
    return float(model.predict(x, verbose=0)[0][0])


__all__ = ["EPOCHS", "MODELS", "encode_imdb", "encode_preprocessed", "predict_review", "preprocess", "read_imdb"]
