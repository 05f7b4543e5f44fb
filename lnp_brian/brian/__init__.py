"""Everything that touches Brian2's process-global state: the build lock and device contexts,
the Brian2 objects made from a model's equations, the check of a model with Brian2, inputs
(noise and stimuli) and CUDA. Below the model layer: it receives a model as data.
"""
