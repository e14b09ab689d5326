"""sophia_infra"""
