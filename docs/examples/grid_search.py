"""rnnlab.TextClassifier in a scikit-learn GridSearchCV: two settings, 3-fold, on 2,000 IMDB reviews.

    python docs/examples/grid_search.py

Prints the search's table and the best setting's accuracy on 1,000 held-out IMDB test reviews.
"""

import time

import numpy as np
from sklearn.model_selection import GridSearchCV

import rnnlab
from rnnlab.data import load_imdb

train, test = load_imdb("train").sample(2000, seed=0), load_imdb("test").sample(1000, seed=0)
names = np.array(["negative", "positive"])
X, y = train.texts, names[train.labels]

search = GridSearchCV(rnnlab.TextClassifier(model="bigru-attention", epochs=4),
                      {"units": [16, 32]}, cv=3, verbose=1)
started = time.perf_counter()
search.fit(X, y)
print(f"search: {time.perf_counter() - started:.0f} s")
for params, mean, std in zip(search.cv_results_["params"], search.cv_results_["mean_test_score"],
                             search.cv_results_["std_test_score"]):
    print(f"  {params}: validation accuracy {100 * mean:.2f}% +/- {100 * std:.2f}")
print("best:", search.best_params_)
print(f"test accuracy of the refit best model: {100 * search.score(test.texts, names[test.labels]):.2f}%")
