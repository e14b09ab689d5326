"""constructs_lib"""
