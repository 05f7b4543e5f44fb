"""Readouts: features from spikes, and trained linear readouts in scikit-learn's conventions.

The readout is the only trained part of the model. It is dense (every active neuron
projects to every readout unit) and is never pruned: pruning acts on the recurrent network,
and after every pruning step the readout is simply trained again on the new network's
activity. Its size enters the cost via :func:`lnp_brian.tasks.metrics.sops` and
:func:`lnp_brian.tasks.metrics.counts`.

- Features come from :mod:`lnp_brian.simulation.traces` (filtered spike trains for series,
  spike counts per presentation window for images).
- :class:`RidgeReadout`: multi-output ridge regression with cross-validated alpha, features
  standardised one by one or block by block (:class:`BlockScaler`).
- :class:`ClassifierReadout`: multinomial logistic regression with cross-validated C.

Both are scikit-learn estimators (``fit`` / ``predict`` / ``score``, learned state in
trailing-underscore attributes, ``get_params`` / ``set_params`` / ``clone``), so they work
with scikit-learn's model-selection tools.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, TransformerMixin, clone
from sklearn.linear_model import LogisticRegression, Ridge, RidgeCV
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold, TimeSeriesSplit
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .metrics import accuracy, nrmse

__all__ = ["BlockScaler", "RidgeReadout", "ClassifierReadout",
           "ridge_cv_losses"]


def _as_grid(values, name):
    grid = np.atleast_1d(np.asarray(values, dtype=float))
    if grid.ndim != 1 or grid.size == 0 or not np.all(np.isfinite(grid)):
        raise ValueError(f"{name} must be a non-empty list of finite numbers, got {values!r}")
    return grid


class BlockScaler(TransformerMixin, BaseEstimator):
    """Centre every feature, then divide each *block* of columns by one number.

    That number is the block's root-mean-square over its columns (training statistics).

    Feature sets of different kinds (the input u(t), spike traces filtered at 5 ms, at
    200 ms, membrane potentials) differ in scale by orders of magnitude; one ridge penalty
    fits them all only if each set is brought to a common scale. Scaling column by column
    instead (:class:`~sklearn.preprocessing.StandardScaler`) blows up the rare neuron whose
    filtered trace is almost always zero in the training rows, so that a later spike of it
    becomes an enormous z-score; one scale per block keeps the relative sizes inside a block.

    Parameters
    ----------
    blocks : sequence of int, default=()
        Column counts of the consecutive blocks; they must add up to the number of features.
        Empty: all columns form one block.
    weights : sequence of float, optional
        A factor per block applied after the scaling (default all 1). In a ridge regression a
        block multiplied by w is penalised as if its penalty were divided by w²: per-block
        regularisation with one alpha.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
        Training mean of every feature.
    scale_ : ndarray of shape (n_features,)
        The block's RMS over its weight, repeated over its columns (a constant block's RMS
        counts as 1).
    n_features_in_ : int
        Number of features seen in ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.c_[np.arange(4.0), 1000 * np.arange(4.0)]
    >>> BlockScaler([1, 1]).fit_transform(X).std(axis=0).round(3).tolist()
    [1.0, 1.0]
    """

    def __init__(self, blocks=(), weights=None):
        self.blocks = blocks
        self.weights = weights

    def fit(self, X, y=None):
        """Learn the feature means and one scale per block from training data.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Training features.
        y : None
            Ignored; present for scikit-learn's pipeline API.

        Returns
        -------
        self : object
            The fitted scaler.

        Raises
        ------
        ValueError
            If ``blocks`` does not add up to ``n_features`` (or has a negative entry), or
            ``weights`` is not one positive finite number per block.
        """
        X = validate_data(self, X, dtype=np.float64)
        sizes = [int(b) for b in self.blocks] or [X.shape[1]]
        if any(b < 0 for b in sizes) or sum(sizes) != X.shape[1]:
            raise ValueError(f"blocks {sizes} do not add up to the {X.shape[1]} features")
        weights = [1.0] * len(sizes) if self.weights is None else [float(w) for w in self.weights]
        if len(weights) != len(sizes) or not all(np.isfinite(w) and w > 0 for w in weights):
            raise ValueError(f"weights must be one positive number per block, got {self.weights!r}")
        self.mean_ = X.mean(axis=0)
        scale = np.ones(X.shape[1])
        start = 0
        for b, w in zip(sizes, weights):
            if b:
                rms = float(np.sqrt(np.mean((X[:, start:start + b] - self.mean_[start:start + b]) ** 2)))
                scale[start:start + b] = (rms if rms > 0 else 1.0) / w
            start += b
        self.scale_ = scale
        return self

    def transform(self, X):
        """Centre with the training means and divide by the block scales.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Features with the columns in the order seen in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples, n_features)
            The scaled features.
        """
        check_is_fitted(self, "scale_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return (X - self.mean_) / self.scale_


def ridge_cv_losses(X, y, alphas, splitter, scaler="passthrough", fit_intercept: bool = True) -> np.ndarray:
    """Cross-validated loss of ridge regression for every alpha, from one decomposition per fold.

    For each fold the scaler (``"passthrough"`` or an unfitted transformer) is fitted on the
    fold's training rows, and the ridge solutions for all alphas come from one symmetric
    eigendecomposition of the (centred) Gram matrix, the same solutions scikit-learn's
    :class:`~sklearn.linear_model.Ridge` computes one Cholesky solve at a time. The loss is
    the squared error relative to each target's variance over all rows (NRMSE squared, and
    defined when a fold's target is constant), averaged over targets and folds.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Features.
    y : ndarray of shape (n_samples,) or (n_samples, n_targets)
        Targets.
    alphas : sequence of float
        Ridge penalties to score (scikit-learn's ``alpha``, not divided by the number of
        samples).
    splitter : scikit-learn splitter
        Any object whose ``split(X)`` yields (train rows, test rows), e.g. ``KFold(5)``.
    scaler : "passthrough" or transformer, default="passthrough"
        Unfitted transformer cloned and fitted on each fold's training rows, e.g.
        :class:`BlockScaler` or :class:`~sklearn.preprocessing.StandardScaler`.
    fit_intercept : bool, default=True
        Centre features and targets on each fold's training means (an unpenalised
        intercept).

    Returns
    -------
    ndarray of shape (len(alphas),)
        Mean validation loss (squared NRMSE) per alpha; lower is better.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import KFold
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 5))
    >>> y = X @ np.array([1.0, -2.0, 0.0, 0.5, 3.0]) + 0.01 * rng.normal(size=200)
    >>> losses = ridge_cv_losses(X, y, [1e-3, 1e-1, 10.0], KFold(5))
    >>> int(np.argmin(losses)), bool(losses[-1] > losses[0])
    (0, True)
    """
    X = np.asarray(X, float)
    y2 = np.asarray(y, float).reshape(len(X), -1)
    alphas = np.asarray(alphas, float)
    var = y2.var(axis=0)
    var[var == 0] = 1.0
    loss = np.zeros(len(alphas))
    n_folds = 0
    for tr, te in splitter.split(X):
        if scaler == "passthrough":
            Ztr, Zte = X[tr], X[te]
        else:
            sc = clone(scaler).fit(X[tr])
            Ztr, Zte = sc.transform(X[tr]), sc.transform(X[te])
        zm = Ztr.mean(axis=0) if fit_intercept else np.zeros(Ztr.shape[1])
        ym = y2[tr].mean(axis=0) if fit_intercept else np.zeros(y2.shape[1])
        Zc = Ztr - zm
        if Zc.shape[0] < Zc.shape[1]:  # fewer rows than features: the n x n kernel form
            lam, U = np.linalg.eigh(Zc @ Zc.T)
            left = (Zte - zm) @ Zc.T @ U  # (n_te, n_tr)
            proj = U.T @ (y2[tr] - ym)
        else:
            lam, V = np.linalg.eigh(Zc.T @ Zc)
            left = (Zte - zm) @ V
            proj = V.T @ (Zc.T @ (y2[tr] - ym))
        lam = np.clip(lam, 0.0, None)
        for i, a in enumerate(alphas):
            pred = left @ (proj / (lam + a)[:, None]) + ym
            loss[i] += np.mean(np.mean((pred - y2[te]) ** 2, axis=0) / var)
        n_folds += 1
    return loss / max(n_folds, 1)


class RidgeReadout(RegressorMixin, BaseEstimator):
    """Multi-output ridge regression with cross-validated alpha, for forecasting readouts.

    Features are standardised (optional), then one alpha, shared by all outputs, is chosen
    from ``alphas`` by cross-validation on the training data and the model is refitted on
    all of it.

    Why blocked cross-validation by default: consecutive rows of filtered spike trains are
    strongly autocorrelated, so leave-one-out or shuffled folds validate on rows nearly
    identical to training rows and choose too little regularisation. Contiguous blocks
    (``"blocked"``, scikit-learn ``KFold`` without shuffling) share only their edges;
    ``"forward"`` (``TimeSeriesSplit``) never trains on the future but fits early folds
    on little data. ``"gcv"`` is scikit-learn's efficient leave-one-out ``RidgeCV`` - one
    decomposition for all alphas, much faster, right for independent samples. Fold
    searches (:func:`ridge_cv_losses`) refit the scaler inside every fold and solve the ridge
    for every alpha from one eigendecomposition per fold (what a grid search over a scaler +
    ``Ridge`` pipeline computes, about ten times faster), scored by the squared error
    relative to each target's training variance (the square of NRMSE, with the variance of
    all training data rather than the fold's, so a fold with a constant target still has a
    score).

    Parameters
    ----------
    alphas : sequence of float, default=10 values from 1e-6 to 1e3 (log-spaced)
        Candidate regularisation strengths (scikit-learn's ``alpha``: the penalty is not
        divided by the number of samples, so larger training sets need larger alphas for
        the same effect). With a single value and fold cross-validation, no search.
    cv : {"blocked", "forward", "gcv"}, int or scikit-learn splitter, default="blocked"
        How alpha is chosen (see above); an int means that many blocked folds.
    n_splits : int, default=5
        Folds for ``"blocked"`` and ``"forward"``.
    standardize : bool or "block", default=True
        ``True``: scale every feature to zero mean and unit variance (with training
        statistics) before the ridge; ``"block"``: centre every feature and scale each block
        of columns (``blocks``) by one number (:class:`BlockScaler`); ``False``: raw.
    fit_intercept : bool, default=True
        Fit an unpenalised intercept.
    blocks : sequence of int, optional
        Column counts of the feature blocks for ``standardize="block"`` (default: one block).
    block_weight_grid : sequence of sequences of float, optional
        With ``standardize="block"``: candidate per-block weights (:class:`BlockScaler`'s
        ``weights``), chosen by the same cross-validation jointly with alpha: per-block
        regularisation, e.g. a lighter penalty on the input block u(t).

    Attributes
    ----------
    model_ : Pipeline
        The fitted scaler + ridge.
    alpha_ : float
        Chosen alpha.
    block_weights_ : tuple of float or None
        Chosen entry of ``block_weight_grid`` (None without a grid).
    coef_ : ndarray of shape (n_targets, n_features) or (n_features,)
        Weights in the *original* feature units (scaling folded in).
    intercept_ : ndarray of shape (n_targets,) or float
        Intercept in the original target units.
    cv_scores_ : ndarray of shape (n_alphas,) or (n_weight_candidates, n_alphas)
        Cross-validation losses (:func:`ridge_cv_losses`) of the fold search; set only when
        one ran (fold cross-validation with more than one alpha).
    n_targets_ : int
        Number of target columns (1 for a 1-D ``y``).
    n_features_in_ : int
        Number of features seen in ``fit``.

    Notes
    -----
    ``score`` returns the **negative NRMSE** (:func:`lnp_brian.tasks.metrics.nrmse`), not R^2:
    NRMSE is the number the project reports, and the sign keeps scikit-learn's "higher is
    better" convention (as its ``neg_root_mean_squared_error`` scorer).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 5))
    >>> y = X @ np.array([1.0, -2.0, 0.0, 0.5, 3.0]) + 0.01 * rng.normal(size=200)
    >>> readout = RidgeReadout(alphas=[1e-3, 1e-1, 10.0]).fit(X, y)
    >>> readout.alpha_
    0.001
    >>> readout.coef_.round(1).tolist()
    [1.0, -2.0, -0.0, 0.5, 3.0]
    >>> round(readout.score(X, y), 3)
    -0.003
    """

    def __init__(self, alphas=tuple(np.logspace(-6, 3, 10)), cv="blocked", n_splits: int = 5,
                 standardize=True, fit_intercept: bool = True, blocks=None, block_weight_grid=None):
        self.alphas = alphas
        self.cv = cv
        self.n_splits = n_splits
        self.standardize = standardize
        self.fit_intercept = fit_intercept
        self.blocks = blocks
        self.block_weight_grid = block_weight_grid

    def _scaler(self, weights=None):
        if self.standardize == "block":
            return BlockScaler(tuple(self.blocks or ()), None if weights is None else tuple(weights))
        if self.standardize is True:
            return StandardScaler()
        if self.standardize is False:
            return "passthrough"
        raise ValueError(f"standardize must be True, False or 'block', got {self.standardize!r}")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _splitter(self):
        cv = self.cv
        if isinstance(cv, str):
            if cv == "blocked":
                return KFold(self.n_splits, shuffle=False)
            if cv == "forward":
                return TimeSeriesSplit(self.n_splits)
            if cv == "gcv":
                return None
            raise ValueError(f"cv must be 'blocked', 'forward', 'gcv', an int or a "
                             f"scikit-learn splitter, got {cv!r}")
        if isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
            return KFold(int(cv), shuffle=False)
        if hasattr(cv, "split"):
            return cv
        raise ValueError(f"cv must be 'blocked', 'forward', 'gcv', an int or a scikit-learn "
                         f"splitter, got {cv!r}")

    def fit(self, X, y):
        """Choose alpha (and block weights) by cross-validation, then fit on all the data.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Training features, rows in time order (the folds are contiguous blocks).
        y : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Training targets.

        Returns
        -------
        self : object
            The fitted readout.

        Raises
        ------
        ValueError
            If ``alphas`` is empty, not finite or negative, ``cv`` or ``standardize`` is
            not recognised, or ``block_weight_grid`` is given without
            ``standardize="block"``.
        """
        X, y = validate_data(self, X, y, multi_output=True, y_numeric=True, dtype=np.float64)
        alphas = _as_grid(self.alphas, "alphas")
        if np.any(alphas < 0):
            raise ValueError("alphas must be >= 0")
        grid = [None] if not self.block_weight_grid else [tuple(w) for w in self.block_weight_grid]
        if grid != [None] and self.standardize != "block":
            raise ValueError("block_weight_grid needs standardize='block'")
        scaler = self._scaler()
        splitter = self._splitter()
        self.block_weights_ = None
        if splitter is None:
            model = Pipeline([("scale", scaler),
                              ("ridge", RidgeCV(alphas=alphas, fit_intercept=self.fit_intercept))])
            model.fit(X, y)
            self.alpha_ = float(model.named_steps["ridge"].alpha_)
        elif len(alphas) == 1:
            model = Pipeline([("scale", scaler),
                              ("ridge", Ridge(alpha=float(alphas[0]),
                                              fit_intercept=self.fit_intercept))]).fit(X, y)
            self.alpha_ = float(alphas[0])
        else:
            losses = np.array([ridge_cv_losses(X, y, alphas, splitter, self._scaler(w), self.fit_intercept)
                               for w in grid])
            g, a = np.unravel_index(int(np.argmin(losses)), losses.shape)  # ties: the first
            self.alpha_, self.block_weights_ = float(alphas[a]), grid[g]
            self.cv_scores_ = losses[0] if len(grid) == 1 else losses
            scaler = self._scaler(grid[g])
            model = Pipeline([("scale", clone(scaler) if scaler != "passthrough" else scaler),
                              ("ridge", Ridge(alpha=self.alpha_, fit_intercept=self.fit_intercept))]).fit(X, y)
        self.model_ = model
        self.n_targets_ = 1 if y.ndim == 1 else y.shape[1]
        self._y_ndim = y.ndim  # sklearn returns (n,) for a lone target column; keep (n, 1)
        ridge = model.named_steps["ridge"]
        coef = np.asarray(ridge.coef_, float)
        intercept = np.asarray(ridge.intercept_, float)
        if self.standardize is not False:
            sc = model.named_steps["scale"]
            coef = coef / sc.scale_
            intercept = intercept - coef @ sc.mean_
        self.coef_ = coef
        self.intercept_ = intercept if intercept.ndim else float(intercept)
        return self

    def predict(self, X):
        """Predict the targets.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Features.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_targets)
            Predictions, shaped as the ``y`` given to ``fit`` (a one-column 2-D ``y`` gives
            (n_samples, 1)).
        """
        check_is_fitted(self, "model_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        pred = self.model_.predict(X)
        return pred.reshape(len(X), -1) if self._y_ndim == 2 else pred

    def score(self, X, y, sample_weight=None):
        """Negative NRMSE of the predictions (higher is better; 0 is perfect).

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Features.
        y : ndarray of shape (n_samples,) or (n_samples, n_targets)
            True targets.
        sample_weight : None
            Not supported; must be None.

        Returns
        -------
        float
            ``-nrmse(y, self.predict(X))``, averaged over targets.

        Raises
        ------
        ValueError
            If ``sample_weight`` is given.
        """
        if sample_weight is not None:
            raise ValueError("RidgeReadout.score does not support sample_weight")
        return -nrmse(np.asarray(y, float), self.predict(X))


class ClassifierReadout(ClassifierMixin, BaseEstimator):
    """Multinomial logistic regression with cross-validated C, for classification readouts.

    Features (e.g. spike counts per image) are standardised; C is chosen by stratified
    cross-validation.

    Parameters
    ----------
    Cs : sequence of float, default=6 values from 1e-3 to 1e2 (log-spaced)
        Candidate inverse L2 regularisation strengths. With more than one, ``cv``-fold
        stratified, shuffled (seeded) cross-validation by accuracy chooses one (a scaler +
        ``LogisticRegression`` pipeline in ``GridSearchCV``); with one, no search.
    cv : int, default=5
        Folds; reduced to the size of the smallest class. When that leaves fewer than 2
        folds, no search is run and C = 1 is used.
    standardize : bool, default=True
        Zero mean, unit variance features (training statistics) before the regression:
        spike counts of different neurons span very different ranges, and lbfgs converges
        far faster on scaled features.
    max_iter : int, default=1000
        lbfgs iterations.
    random_state : int, default=0
        Seed of the fold shuffling (the fit itself is deterministic).

    Attributes
    ----------
    model_ : Pipeline
        Fitted scaler + logistic regression.
    C_ : float
        Chosen C.
    classes_ : ndarray of shape (n_classes,)
        Class labels seen in ``fit``.
    cv_scores_ : ndarray of shape (n_Cs,)
        Mean cross-validated accuracy per candidate C; set only when a search ran.
    n_iter_ : ndarray of int, shape (1,)
        lbfgs iterations of the final fit.
    n_features_in_ : int
        Number of features seen in ``fit``.

    Notes
    -----
    ``score`` is the accuracy (:func:`lnp_brian.tasks.metrics.accuracy`).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 4))
    >>> labels = (X[:, 0] > 0).astype(int)
    >>> clf = ClassifierReadout(Cs=[0.1, 1.0, 10.0], cv=3).fit(X, labels)
    >>> clf.classes_.tolist(), clf.C_
    ([0, 1], 10.0)
    >>> clf.score(X, labels)
    1.0
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    """

    def __init__(self, Cs=tuple(np.logspace(-3, 2, 6)), cv: int = 5, standardize: bool = True,
                 max_iter: int = 1000, random_state: int = 0):
        self.Cs = Cs
        self.cv = cv
        self.standardize = standardize
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(self, X, y):
        """Choose C by stratified cross-validation, then fit on all the data.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Training features (e.g. spike counts per image).
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        self : object
            The fitted readout.

        Raises
        ------
        ValueError
            If ``Cs`` is empty, not finite or not positive, the labels are continuous, or
            there is only one class.
        """
        X, y = validate_data(self, X, y, dtype=np.float64)
        Cs = _as_grid(self.Cs, "Cs")
        if np.any(Cs <= 0):
            raise ValueError("Cs must be > 0")
        check_classification_targets(y)  # refuses continuous targets ("Unknown label type")
        classes = np.unique(y)
        if len(classes) < 2:
            raise ValueError(f"need at least 2 classes, got 1 class: {classes.tolist()}")
        base = Pipeline([("scale", StandardScaler() if self.standardize else "passthrough"),
                         ("logreg", LogisticRegression(max_iter=self.max_iter))])
        # stratified folds need every class in every fold: fewer folds for tiny training sets,
        # and no search at all when a class has a single example
        n_folds = min(int(self.cv), int(np.bincount(np.unique(y, return_inverse=True)[1]).min()))
        if len(Cs) == 1 or n_folds < 2:
            C = float(Cs[0]) if len(Cs) == 1 else 1.0
            model = base.set_params(logreg__C=C).fit(X, y)
            self.C_ = C
        else:
            folds = StratifiedKFold(n_folds, shuffle=True, random_state=self.random_state)
            search = GridSearchCV(base, {"logreg__C": list(Cs)}, cv=folds, scoring="accuracy",
                                  refit=True)
            search.fit(X, y)
            model = search.best_estimator_
            self.C_ = float(search.best_params_["logreg__C"])
            self.cv_scores_ = np.asarray(search.cv_results_["mean_test_score"])
        self.model_ = model
        self.classes_ = model.classes_
        self.n_iter_ = model.named_steps["logreg"].n_iter_
        return self

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Features.

        Returns
        -------
        ndarray of shape (n_samples,)
            Predicted labels, taken from ``classes_``.
        """
        check_is_fitted(self, "model_")
        return self.model_.predict(validate_data(self, X, reset=False, dtype=np.float64))

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Features.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Probability of each class, columns in the order of ``classes_``.
        """
        check_is_fitted(self, "model_")
        return self.model_.predict_proba(validate_data(self, X, reset=False, dtype=np.float64))

    def score(self, X, y, sample_weight=None):
        """Accuracy of the predicted labels.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Features.
        y : array-like of shape (n_samples,)
            True labels.
        sample_weight : None
            Not supported; must be None.

        Returns
        -------
        float
            Fraction of correctly classified samples, in [0, 1].

        Raises
        ------
        ValueError
            If ``sample_weight`` is given.
        """
        if sample_weight is not None:
            raise ValueError("ClassifierReadout.score does not support sample_weight")
        return accuracy(np.asarray(y), self.predict(X))
