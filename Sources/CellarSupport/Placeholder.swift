// replaced by CellarSupport sources
