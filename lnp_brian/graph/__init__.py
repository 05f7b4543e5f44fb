"""Graph numerics on sparse matrices: spectral sparsification by effective resistances and
betweenness centrality for neuron pruning.
"""
